package dev.lorastream.worker.internal;

import dev.lorastream.schemas.CancelRequest;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.TokenListener;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;

/**
 * The records the poll loop has consumed but not yet committed, per partition in offset order,
 * each with the engine work that answers it. Valid requests go to {@link InferenceEngine#submit}
 * as they arrive (engines that only implement {@code generate} get each poll's requests in batches
 * of at most max batch, as before), so new requests join the engine's running batch without
 * waiting for the requests already decoding. A record is finished once its output (response and
 * attribution, or error and dead letter) is built; records refused on arrival are finished at once.
 *
 * <p>{@link #takeCommittable()} hands out, per partition, the output of the longest contiguous
 * prefix of finished records and the offset just past it. A finished record behind an unfinished
 * one is held back until the prefix reaches it: publishing it earlier would answer it twice if the
 * partition's next owner re-read it from the committed offset. Thread-confined to the poll loop;
 * the engine completes futures on its own threads, which are only read here.
 */
public final class InFlightRequests {
    private static final Logger log = LoggerFactory.getLogger(InFlightRequests.class);

    private final InferenceEngine engine;
    private final BatchProcessor processor;
    private final int maxAttempts;
    private final Backoff retryDelays;
    private final boolean continuous;
    private final Map<TopicPartition, ArrayDeque<Entry>> partitions = new LinkedHashMap<>();
    private int unfinished;
    private TokenStreams streams;
    private Function<String, CancelRequest> cancellations = id -> null;

    private static final class Entry {
        final ConsumerRecord<byte[], byte[]> record;
        BatchProcessor.Admitted admitted;
        CompletableFuture<Generation> future;
        Instant started;
        int attempts;
        long retryAtNanos;
        OutputBatch out;

        Entry(ConsumerRecord<byte[], byte[]> record) { this.record = record; }

        boolean finished() { return out != null; }
    }

    /**
     * @param maxAttempts how often one request is submitted before it is answered INTERNAL
     * @param retryDelays the pause before each retry ({@link Backoff#delayMs}), not slept: the loop goes on
     */
    public InFlightRequests(InferenceEngine engine, BatchProcessor processor, int maxAttempts, Backoff retryDelays) {
        this.engine = engine;
        this.processor = processor;
        this.maxAttempts = Math.max(1, maxAttempts);
        this.retryDelays = retryDelays;
        this.continuous = overridesSubmit(engine);
        if (continuous) processor.metrics().countBatchesOf(engine);
    }

    /** Whether the engine has its own {@code submit} (a continuous batcher) rather than the interface's default. */
    static boolean overridesSubmit(InferenceEngine engine) {
        try {
            return engine.getClass().getMethod("submit", GenerationTask.class).getDeclaringClass() != InferenceEngine.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    public boolean continuous() { return continuous; }

    /** Where cancellations are looked up by request id (none: requests are not cancelled). */
    public void cancelledBy(Function<String, CancelRequest> lookup) { this.cancellations = lookup; }

    /** Where the tokens of requests that ask to stream go as they are generated (none: they are not streamed). */
    public void streamTo(TokenStreams streams) { this.streams = streams; }

    /** Requests admitted to the engine and not yet finished. */
    public int unfinished() { return unfinished; }

    /** Records held (finished or not) that are not yet committed. */
    public int held() {
        int n = 0;
        for (ArrayDeque<Entry> q : partitions.values()) n += q.size();
        return n;
    }

    /** Whether some engine future has completed and waits to be collected. */
    public boolean anyDone() {
        for (ArrayDeque<Entry> q : partitions.values()) {
            for (Entry e : q) {
                if (!e.finished() && e.future != null && e.future.isDone()) return true;
            }
        }
        return false;
    }

    /** Takes the records of one poll: refuses what cannot be served and starts the rest on the engine. */
    public void add(Iterable<ConsumerRecord<byte[], byte[]>> records) throws InterruptedException {
        List<Entry> admitted = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            Entry e = new Entry(record);
            OutputBatch out = new OutputBatch();
            BatchProcessor.Admitted a = processor.admit(record, out);
            if (a == null) {
                e.out = out;
            } else {
                e.admitted = a;
                unfinished++;
                admitted.add(e);
            }
            partitions.computeIfAbsent(new TopicPartition(record.topic(), record.partition()), tp -> new ArrayDeque<>()).addLast(e);
        }
        if (continuous) {
            for (Entry e : admitted) submit(e);
        } else {
            generate(admitted);
        }
        load();
    }

    /** A generate-only engine: this poll's requests in batches of at most max batch, with the runner's bounded retries. */
    private void generate(List<Entry> admitted) throws InterruptedException {
        int maxBatch = processor.maxBatch();
        for (int from = 0; from < admitted.size(); from += maxBatch) {
            List<Entry> batch = admitted.subList(from, Math.min(admitted.size(), from + maxBatch));
            Instant started = processor.clock().instant();
            processor.metrics().batchRun();
            GenerationRunner.Result result = processor.runner().run(batch.stream().map(e -> e.admitted.task()).toList());
            if (result instanceof GenerationRunner.Failed f) {
                processor.metrics().engineFailure();
                String reason = "engine failed the batch after " + f.attempts() + " attempt(s): " + f.cause();
                for (Entry e : batch) finish(e, out -> processor.failed(e.admitted, ErrorCode.INTERNAL.name(), null, reason, out));
                continue;
            }
            List<Generation> generations = ((GenerationRunner.Generated) result).generations();
            for (int i = 0; i < batch.size(); i++) {
                Entry e = batch.get(i);
                Generation g = generations.get(i);
                finish(e, out -> processor.served(e.admitted, g, started, out));
            }
        }
    }

    private void submit(Entry e) {
        e.attempts++;
        e.started = processor.clock().instant();
        try {
            List<String> stop = e.admitted.request().getParams().getStop();
            TokenStreams.Open stream = streams != null && e.admitted.request().getParams().getStream()
                    ? streams.open(e.admitted.task().requestId(), stop) : null;
            TokenListener listener = stream == null ? TokenListener.NONE : stream.listener();
            if (!stop.isEmpty()) listener = new StopWatch(stop, engine::decode, listener);
            CompletableFuture<Generation> f = listener == TokenListener.NONE
                    ? engine.submit(e.admitted.task()) : engine.submit(e.admitted.task(), listener);
            if (stream != null && f != null) f.whenComplete((g, x) -> stream.end().run());
            e.future = f == null ? CompletableFuture.failedFuture(new IllegalStateException("engine returned no future")) : f;
        } catch (RuntimeException ex) {
            e.future = CompletableFuture.failedFuture(ex);
        }
    }

    /**
     * Builds the output of every request whose engine future has completed; resubmits failed
     * ones whose retry pause is over, and answers INTERNAL those out of attempts.
     */
    public void collect() {
        if (!continuous) return;
        long now = System.nanoTime();
        for (ArrayDeque<Entry> q : partitions.values()) {
            for (Entry e : q) {
                if (e.finished()) continue;
                if (e.future == null) {
                    if (now - e.retryAtNanos >= 0) submit(e);
                    continue;
                }
                if (!e.future.isDone()) {
                    if (!cancelAsked(e)) cancelPastDeadline(e);
                    continue;
                }
                Generation g = null;
                Throwable failure = null;
                try {
                    g = e.future.get();
                    if (g == null || g.tokenIds() == null || !e.admitted.task().requestId().equals(g.requestId())) {
                        failure = new IllegalStateException("engine result is not for request " + e.admitted.task().requestId());
                    }
                } catch (ExecutionException | CompletionException ex) {
                    failure = ex.getCause() == null ? ex : ex.getCause();
                } catch (CancellationException ex) {
                    failure = ex;
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    return;
                }
                if (failure == null) {
                    Generation done = g;
                    finish(e, out -> processor.served(e.admitted, done, e.started, out));
                } else if (failure instanceof InvalidTaskException invalid) {
                    finish(e, out -> processor.failed(e.admitted, invalid.code(), invalid.field(), invalid.getMessage(), out));
                } else if (e.attempts < maxAttempts) {
                    log.warn("engine failed request {} (attempt {}/{}): {}", e.admitted.task().requestId(), e.attempts, maxAttempts,
                            failure.toString());
                    e.future = null;
                    e.retryAtNanos = now + retryDelays.delayMs(e.attempts) * 1_000_000L;
                    if (retryDelays.delayMs(e.attempts) <= 0) submit(e);
                } else {
                    processor.metrics().engineFailure();
                    String reason = "engine failed the request after " + e.attempts + " attempt(s): " + failure;
                    finish(e, out -> processor.failed(e.admitted, ErrorCode.INTERNAL.name(), null, reason, out));
                }
            }
        }
        load();
    }

    /** A request whose caller cancelled it (inference.cancels) is stopped, answered CANCELLED. */
    private boolean cancelAsked(Entry e) {
        CancelRequest cancel = cancellations.apply(e.admitted.task().requestId());
        if (cancel == null) return false;
        stop(e, ErrorCode.CANCELLED, null, "cancelled: " + cancel.getReason());
        return true;
    }

    /** A request whose deadline passes while the engine works on it is stopped, answered DEADLINE_EXCEEDED naming deadline_ms. */
    private void cancelPastDeadline(Entry e) {
        Instant deadline = e.admitted.request().getDeadlineMs();
        if (deadline == null || !processor.clock().instant().isAfter(deadline)) return;
        stop(e, ErrorCode.DEADLINE_EXCEEDED, "deadline_ms", "deadline " + deadline + " passed during generation; generation stopped");
    }

    /** Cancels the engine's work on the request (the engine drops it at its next step, its row freed), counts it and answers it. */
    private void stop(Entry e, ErrorCode code, String field, String reason) {
        e.future.cancel(true);
        processor.metrics().cancelled();
        log.info("request {} stopped: {}", e.admitted.task().requestId(), reason);
        finish(e, out -> processor.stopped(e.admitted.request(), code.name(), field, reason, out));
    }

    private void finish(Entry e, java.util.function.Consumer<OutputBatch> build) {
        OutputBatch out = new OutputBatch();
        build.accept(out);
        e.out = out;
        e.future = null;
        unfinished--;
    }

    /** One consumed record, everything it publishes, and how often that output was replaced because it could not be published. */
    public record Part(ConsumerRecord<byte[], byte[]> record, OutputBatch out, int repairs) {}

    /**
     * What one transaction commits: the output of finished prefixes, record by record, and each
     * partition's next offset.
     */
    public record Committable(List<Part> parts, Map<TopicPartition, OffsetAndMetadata> offsets,
                              Map<TopicPartition, Long> firstOffsets) {
        /** Everything the parts publish, in order. */
        public OutputBatch output() {
            OutputBatch all = new OutputBatch();
            for (Part p : parts) all.addAll(p.out());
            return all;
        }

        /**
         * The same commit with the output of each part that owns one of {@code failed} (indices into
         * {@link #output()}'s records) replaced by what {@code repair} makes of the part and its
         * failures (its {@link Part#repairs()} counted up); the offsets stay: the records are answered,
         * not read again.
         */
        public Committable replacing(Map<Integer, ? extends Exception> failed,
                                     java.util.function.BiFunction<Part, Map<ProducerRecord<String, SpecificRecord>, Exception>, OutputBatch> repair) {
            List<Part> repaired = new ArrayList<>(parts.size());
            int from = 0;
            for (Part p : parts) {
                List<ProducerRecord<String, SpecificRecord>> own = p.out().records();
                Map<ProducerRecord<String, SpecificRecord>, Exception> mine = new LinkedHashMap<>();
                for (int i = 0; i < own.size(); i++) {
                    Exception e = failed.get(from + i);
                    if (e != null) mine.put(own.get(i), e);
                }
                from += own.size();
                repaired.add(mine.isEmpty() ? p : new Part(p.record(), repair.apply(p, mine), p.repairs() + 1));
            }
            return new Committable(List.copyOf(repaired), offsets, firstOffsets);
        }
    }

    /**
     * Removes and returns, per partition, the longest contiguous prefix of finished records: their
     * output and the offset just past the last; null when no partition has one. The caller commits
     * it or, when that fails, {@link #abandonAll() abandons} everything.
     */
    public Committable takeCommittable() {
        List<Part> parts = new ArrayList<>();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<TopicPartition, Long> first = new HashMap<>();
        for (Map.Entry<TopicPartition, ArrayDeque<Entry>> p : partitions.entrySet()) {
            ArrayDeque<Entry> q = p.getValue();
            Entry last = null;
            while (!q.isEmpty() && q.peekFirst().finished()) {
                last = q.pollFirst();
                first.putIfAbsent(p.getKey(), last.record.offset());
                parts.add(new Part(last.record, last.out, 0));
            }
            if (last != null) offsets.put(p.getKey(), new OffsetAndMetadata(last.record.offset() + 1, last.record.leaderEpoch(), ""));
        }
        partitions.values().removeIf(ArrayDeque::isEmpty);
        return offsets.isEmpty() ? null : new Committable(List.copyOf(parts), offsets, first);
    }

    /**
     * Drops everything held for the given partitions (revoked or lost): nothing of theirs will be
     * published; their next owner reads them again from the committed offset.
     *
     * @return each dropped partition's first held offset
     */
    public Map<TopicPartition, Long> abandon(Collection<TopicPartition> revoked) {
        Map<TopicPartition, Long> first = new HashMap<>();
        for (TopicPartition tp : revoked) {
            ArrayDeque<Entry> q = partitions.remove(tp);
            if (q == null || q.isEmpty()) continue;
            first.put(tp, q.peekFirst().record.offset());
            for (Entry e : q) {
                if (e.finished()) continue;
                unfinished--;
                if (e.future != null) e.future.cancel(false);
            }
            log.info("abandoned {} uncommitted record(s) of {}", q.size(), tp);
        }
        load();
        return first;
    }

    /** Drops everything held; returns each partition's first held offset. */
    public Map<TopicPartition, Long> abandonAll() { return abandon(List.copyOf(partitions.keySet())); }

    private void load() {
        processor.metrics().load(unfinished, 0);
    }
}
