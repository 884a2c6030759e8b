package dev.lorastream.worker.internal;

import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.engine.InferenceEngine;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
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
 * The worker's consume-process-produce loop, on one thread. Each poll's records become one
 * {@link OutputBatch}, written with the records' offsets in one transaction. When that fails the
 * transaction is aborted, the consumer is moved back to the last committed positions and the
 * records are processed again after a capped, growing pause. A fenced producer (another instance
 * with the same transactional id took over) ends the loop.
 */
public final class PollLoop {
    private static final Logger log = LoggerFactory.getLogger(PollLoop.class);

    private final Consumer<byte[], byte[]> consumer;
    private final Supplier<Producer<String, SpecificRecord>> producers;
    private final BatchProcessor processor;
    private final InferenceEngine engine;
    private final WorkerMetrics metrics;
    private final Duration pollTimeout;
    private final Backoff backoff;
    private final AssignmentTracker assignment;
    private TransactionalOutput output;
    private volatile boolean stopping;
    private volatile Throwable failure;

    public PollLoop(Consumer<byte[], byte[]> consumer, Supplier<Producer<String, SpecificRecord>> producers,
                    BatchProcessor processor, InferenceEngine engine, WorkerMetrics metrics,
                    Duration pollTimeout, Backoff backoff) {
        this.consumer = consumer;
        this.producers = producers;
        this.processor = processor;
        this.engine = engine;
        this.metrics = metrics;
        this.pollTimeout = pollTimeout;
        this.backoff = backoff;
        this.assignment = new AssignmentTracker(this::abortQuietly);
    }

    public AssignmentTracker assignment() { return assignment; }

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

    /** Asks the loop to end after the batch in progress; safe from any thread. */
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
     * One poll and the handling of its records.
     *
     * @return false when the loop must end
     */
    public boolean pollOnce() {
        ConsumerRecords<byte[], byte[]> records;
        try {
            records = consumer.poll(pollTimeout);
        } catch (WakeupException e) {
            return !stopping;
        } catch (InterruptException e) {
            stopping = true;
            return false;
        }
        refreshAdapters();
        if (records.isEmpty()) return true;
        return handle(records);
    }

    private boolean handle(ConsumerRecords<byte[], byte[]> records) {
        try {
            ensureOutput();
            OutputBatch out = processor.process(records);
            output.commit(out.records(), nextOffsets(records), consumer.groupMetadata());
            metrics.committed(out);
            backoff.reset();
            log.debug("committed {} records: {} responses, {} attributions, {} dead letters",
                    records.count(), out.responses(), out.attributions(), out.deadLetters());
            return true;
        } catch (InterruptedException | InterruptException e) {
            Thread.currentThread().interrupt();
            abandon(records);
            stopping = true;
            return false;
        } catch (RuntimeException e) {
            Throwable fatal = TransactionalOutput.fatalCause(e);
            if (fatal != null) {
                failure = fatal;
                stopping = true;
                log.error("transactional producer fenced or refused: another worker with this transactional id took over; stopping: {}", e.toString());
                return false;
            }
            log.warn("batch of {} records failed ({}); aborting, rewinding to the committed offsets, retrying",
                    records.count(), e.toString());
            abandon(records);
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

    /** Aborts whatever this batch began and moves the consumer back to the committed positions. */
    private void abandon(ConsumerRecords<byte[], byte[]> records) {
        metrics.aborted();
        abortQuietly();
        if (!stopping) rewind(records);
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

    private void rewind(ConsumerRecords<byte[], byte[]> records) {
        Set<TopicPartition> assigned = consumer.assignment();
        Map<TopicPartition, OffsetAndMetadata> committed = Map.of();
        try {
            committed = consumer.committed(assigned);
        } catch (KafkaException e) {
            log.warn("cannot read committed offsets ({}); rewinding to the first offsets of the batch", e.toString());
        }
        for (TopicPartition tp : assigned) {
            OffsetAndMetadata c = committed == null ? null : committed.get(tp);
            if (c != null) {
                consumer.seek(tp, c.offset());
            } else if (!records.records(tp).isEmpty()) {
                consumer.seek(tp, records.records(tp).getFirst().offset());
            }
        }
    }

    static Map<TopicPartition, OffsetAndMetadata> nextOffsets(ConsumerRecords<byte[], byte[]> records) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : records.partitions()) {
            List<ConsumerRecord<byte[], byte[]>> list = records.records(tp);
            if (list.isEmpty()) continue;
            ConsumerRecord<byte[], byte[]> last = list.getLast();
            offsets.put(tp, new OffsetAndMetadata(last.offset() + 1, last.leaderEpoch(), ""));
        }
        return offsets;
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
        try {
            metrics.residentAdapters(engine.residentAdapterIds().stream().sorted().toList());
        } catch (RuntimeException e) {
            log.debug("engine cannot list its adapters: {}", e.toString());
        }
    }

    private void shutdown() {
        abortQuietly();
        try {
            consumer.close();
        } catch (RuntimeException e) {
            log.warn("closing the consumer: {}", e.toString());
        }
        if (output != null) output.close();
        output = null;
    }
}
