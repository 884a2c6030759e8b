package dev.lorastream.worker.internal;

import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.engine.InferenceEngine;
import org.apache.avro.specific.SpecificRecord;
import dev.lorastream.schemas.ops.GroupMembership;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The worker's consume-process-produce loop, on one thread. It keeps polling while the engine
 * decodes: each poll's valid requests are handed to the engine as they arrive (see
 * {@link InFlightRequests}), and each iteration commits one transaction with the output of every
 * request finished since the last commit, per partition the longest contiguous prefix of finished
 * records, and the offsets just past those prefixes. Partitions are paused while more than twice
 * the max batch of requests are in flight. When a commit fails the transaction is aborted,
 * everything in flight is abandoned, the consumer is moved back to the last committed positions
 * and the records are processed again after a capped, growing pause. Work of revoked or lost
 * partitions is abandoned, never published. A fenced producer or consumer (another instance with the same
 * transactional id or group instance id took over) ends the loop.
 */
public final class PollLoop {
    private static final Logger log = LoggerFactory.getLogger(PollLoop.class);
    /** The poll timeout while requests are on the engine: how long a finished one can wait to be noticed. */
    static final Duration BUSY_POLL = Duration.ofMillis(1);
    /** How often the resident adapters reported in metrics and heartbeats are read from the engine. */
    private static final long ADAPTER_REFRESH_NANOS = 1_000_000_000L;

    private final Consumer<byte[], byte[]> consumer;
    private final Supplier<Producer<String, SpecificRecord>> producers;
    private final InferenceEngine engine;
    private final WorkerMetrics metrics;
    private final Duration pollTimeout;
    private final Backoff backoff;
    private final AssignmentTracker assignment;
    private final InFlightRequests inFlight;
    private final BatchProcessor processor;
    private final int maxInFlight;
    private CloseOptions closeOptions = GroupMembership.closeOptions(true);
    private TransactionalOutput output;
    private InFlightRequests.Committable committing;
    private long adaptersReadAt;
    private volatile boolean stopping;
    private volatile Throwable failure;

    public PollLoop(Consumer<byte[], byte[]> consumer, Supplier<Producer<String, SpecificRecord>> producers,
                    BatchProcessor processor, InferenceEngine engine, WorkerMetrics metrics,
                    Duration pollTimeout, Backoff backoff) {
        this(consumer, producers, processor, engine, metrics, pollTimeout, backoff,
                processor.runner().maxAttempts(), processor.runner().backoffDelays());
    }

    /** With the per-request attempts and retry pauses of a continuous engine. */
    public PollLoop(Consumer<byte[], byte[]> consumer, Supplier<Producer<String, SpecificRecord>> producers,
                    BatchProcessor processor, InferenceEngine engine, WorkerMetrics metrics,
                    Duration pollTimeout, Backoff backoff, int engineAttempts, Backoff engineRetryDelays) {
        this.consumer = consumer;
        this.producers = producers;
        this.engine = engine;
        this.metrics = metrics;
        this.pollTimeout = pollTimeout;
        this.backoff = backoff;
        this.processor = processor;
        this.inFlight = new InFlightRequests(engine, processor, engineAttempts, engineRetryDelays);
        this.maxInFlight = 2 * Math.max(1, processor.maxBatch());
        this.assignment = new AssignmentTracker(this::revoked);
    }

    public AssignmentTracker assignment() { return assignment; }

    /**
     * Whether the consumer leaves its group when the loop ends (true by default: its partitions are served
     * elsewhere at once) or, a static member, keeps them until the session times out (a restart in place).
     */
    public PollLoop leaveGroupOnClose(boolean leave) {
        closeOptions = GroupMembership.closeOptions(leave);
        return this;
    }

    /** The records consumed and not yet committed (for tests and metrics). */
    public InFlightRequests inFlight() { return inFlight; }

    /** Initialises the transactional producer (fencing a zombie with the same id) and subscribes. */
    public void init() {
        ensureOutput();
        consumer.subscribe(List.of(Topics.ROUTED), assignment);
        refreshAdapters();
    }

    /** Polls until {@link #stop()} or a fatal failure, then closes the clients. */
    public void run() {
        try {
            while (!stopping && pollOnce()) {
                // next poll
            }
        } finally {
            shutdown();
        }
    }

    /** Asks the loop to end after the iteration in progress; safe from any thread. */
    public void stop() {
        stopping = true;
        try {
            consumer.wakeup();
        } catch (RuntimeException e) {
            log.debug("wakeup: {}", e.toString());
        }
    }

    /** Why the loop ended on its own (a fenced producer), or null. */
    public Throwable failure() { return failure; }

    /**
     * One poll, the hand-over of its records to the engine, and one commit of whatever finished.
     *
     * @return false when the loop must end
     */
    public boolean pollOnce() {
        ConsumerRecords<byte[], byte[]> records;
        try {
            records = consumer.poll(nextPollTimeout());
        } catch (WakeupException e) {
            return !stopping;
        } catch (InterruptException e) {
            stopping = true;
            return false;
        } catch (FencedInstanceIdException e) {
            // static membership: a newer instance with this worker id joined the group in this one's place
            failure = e;
            stopping = true;
            inFlight.abandonAll();
            log.error("consumer fenced: another worker with this group instance id took over; stopping: {}", e.toString());
            return false;
        }
        refreshAdapters();
        if (records.isEmpty() && inFlight.held() == 0) return true;
        return handle(records);
    }

    /**
     * Zero when a finished request waits to be published; {@link #BUSY_POLL} while the engine
     * works on requests, so that one finishing is published within a millisecond or two rather than after a
     * whole {@code poll.timeout.ms}; else {@code poll.timeout.ms} (new records end a poll early anyway).
     */
    Duration nextPollTimeout() {
        if (inFlight.anyDone()) return Duration.ZERO;
        if (inFlight.unfinished() > 0 && BUSY_POLL.compareTo(pollTimeout) < 0) return BUSY_POLL;
        return pollTimeout;
    }

    private boolean handle(ConsumerRecords<byte[], byte[]> records) {
        try {
            ensureOutput();
            if (!records.isEmpty()) inFlight.add(records);
            inFlight.collect();
            throttle();
            InFlightRequests.Committable ready = inFlight.takeCommittable();
            if (ready == null) return true;
            committing = ready;
            long c0 = System.nanoTime();
            OutputBatch out = commit(ready);
            committing = null;
            metrics.committed(out, System.nanoTime() - c0);
            backoff.reset();
            log.debug("committed offsets {}: {} responses, {} attributions, {} dead letters",
                    ready.offsets(), out.responses(), out.attributions(), out.deadLetters());
            return true;
        } catch (InterruptedException | InterruptException e) {
            Thread.currentThread().interrupt();
            abandon();
            stopping = true;
            return false;
        } catch (RuntimeException e) {
            Throwable fatal = TransactionalOutput.fatalCause(e);
            if (fatal != null) {
                failure = fatal;
                stopping = true;
                committing = null;
                inFlight.abandonAll();
                log.error("transactional producer fenced or refused: another worker with this transactional id took over; stopping: {}", e.toString());
                return false;
            }
            log.warn("iteration with {} new records failed ({}); aborting, rewinding to the committed offsets, retrying",
                    records.count(), e.toString());
            abandon();
            try {
                backoff.pause();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                stopping = true;
                return false;
            }
            return !stopping;
        }
    }

    /**
     * Commits {@code ready}; when some records fail for what they are (too large, not serializable
     * for their topic), aborts, replaces the output of the records they belong to
     * ({@link BatchProcessor#unpublishable}: an error answer and a dead letter, then the dead letter
     * alone, then nothing) and commits again: one record's failure stays with that record, the rest
     * of the batch is served, and the number of rounds is bounded (each one repairs some record once
     * more, and a record repaired {@value BatchProcessor#MAX_REPAIRS} times publishes nothing). Any
     * other failure is thrown (the whole iteration is aborted and read again).
     */
    private OutputBatch commit(InFlightRequests.Committable ready) {
        while (true) {
            OutputBatch out = ready.output();
            try {
                output.commit(out.records(), ready.offsets(), consumer.groupMetadata());
                return out;
            } catch (TransactionalOutput.RecordFailures f) {
                Map<Integer, Exception> own = f.recordSpecific();
                if (own.isEmpty()) throw f;
                metrics.aborted();
                abortQuietly();
                ensureOutput();
                ready = ready.replacing(own, (part, failed) -> processor.unpublishable(part.record(), failed, part.repairs() + 1));
                committing = ready;
            }
        }
    }

    /** Pauses the assigned partitions while too many requests are in flight; resumes them below the limit. */
    private void throttle() {
        // also bounded: finished records held back behind a long-running one at the head of their partition
        if (inFlight.unfinished() >= maxInFlight || inFlight.held() >= 4 * maxInFlight) {
            Set<TopicPartition> assigned = consumer.assignment();
            if (!assigned.isEmpty() && !consumer.paused().containsAll(assigned)) consumer.pause(assigned);
        } else {
            Set<TopicPartition> paused = consumer.paused();
            if (!paused.isEmpty()) consumer.resume(paused);
        }
    }

    /** Partitions revoked or lost: abort an open transaction and drop their uncommitted work. */
    private void revoked(java.util.Collection<TopicPartition> partitions) {
        abortQuietly();
        inFlight.abandon(partitions);
    }

    /** Aborts whatever was begun, drops everything in flight and moves the consumer back to the committed positions. */
    private void abandon() {
        metrics.aborted();
        abortQuietly();
        Map<TopicPartition, Long> firstHeld = new HashMap<>(inFlight.abandonAll());
        if (committing != null) committing.firstOffsets().forEach((tp, offset) -> firstHeld.merge(tp, offset, Math::min));
        committing = null;
        if (!stopping) rewind(firstHeld);
        try {
            Set<TopicPartition> paused = consumer.paused();
            if (!paused.isEmpty()) consumer.resume(paused);
        } catch (RuntimeException e) {
            log.debug("resume: {}", e.toString());
        }
    }

    private void abortQuietly() {
        if (output == null) return;
        boolean usable;
        try {
            usable = output.abortIfOpen();
        } catch (RuntimeException e) {
            Throwable fatal = TransactionalOutput.fatalCause(e);
            if (fatal != null) {
                // fenced: a new producer would fence the instance that took over; end the loop instead
                if (failure == null) failure = fatal;
                stopping = true;
            }
            usable = false;
        }
        if (!usable) {
            output.close();
            output = null;
        }
    }

    private void rewind(Map<TopicPartition, Long> firstHeld) {
        Set<TopicPartition> assigned = consumer.assignment();
        Map<TopicPartition, OffsetAndMetadata> committed = Map.of();
        try {
            committed = consumer.committed(assigned);
        } catch (KafkaException e) {
            log.warn("cannot read committed offsets ({}); rewinding to the first uncommitted offsets held", e.toString());
        }
        for (TopicPartition tp : assigned) {
            OffsetAndMetadata c = committed == null ? null : committed.get(tp);
            if (c != null) {
                consumer.seek(tp, c.offset());
            } else if (firstHeld.containsKey(tp)) {
                consumer.seek(tp, firstHeld.get(tp));
            }
        }
    }

    private void ensureOutput() {
        if (output != null) return;
        TransactionalOutput fresh = new TransactionalOutput(producers.get());
        try {
            fresh.init();
        } catch (RuntimeException e) {
            fresh.close();
            throw e;
        }
        output = fresh;
    }

    private void refreshAdapters() {
        long now = System.nanoTime();
        if (adaptersReadAt != 0 && now - adaptersReadAt < ADAPTER_REFRESH_NANOS) return; // the engine's lists are not free to build
        adaptersReadAt = now;
        try {
            metrics.residentAdapters(engine.residentAdapterIds().stream().sorted().toList());
        } catch (RuntimeException e) {
            log.debug("engine cannot list its adapters: {}", e.toString());
        }
    }

    private void shutdown() {
        abortQuietly();
        inFlight.abandonAll();
        try {
            consumer.close(closeOptions);
        } catch (RuntimeException e) {
            log.warn("closing the consumer: {}", e.toString());
        }
        if (output != null) output.close();
        output = null;
    }
}
