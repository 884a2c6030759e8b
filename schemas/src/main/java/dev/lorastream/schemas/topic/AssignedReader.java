package dev.lorastream.schemas.topic;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import dev.lorastream.schemas.Failures;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

/**
 * A background thread that reads every partition of one topic with a group-less consumer
 * (assigned, not subscribed) and hands each record to {@link #accept}. Records whose bytes cannot
 * be read are logged with partition and offset and skipped, so that one bad record never stalls
 * the reader; a record that cannot be decoded because the schema registry is unreachable is read
 * again once it answers (skipping it left its caller without an answer). The consumer is used by the constructing thread until {@link #startThread} and by
 * the reader thread afterwards, never by both. The ingest client's readers and the worker's
 * followers of inference.cancels and adapters.catalog are its subclasses.
 */
public abstract class AssignedReader<V> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AssignedReader.class);
    private static final Duration POLL = Duration.ofMillis(200);

    protected final String topic;
    protected final Consumer<String, V> consumer;
    private final String threadName;
    private volatile boolean running = true;
    private Thread thread;

    protected AssignedReader(Consumer<String, V> consumer, String topic, String threadName) {
        this.consumer = consumer;
        this.topic = topic;
        this.threadName = threadName;
    }

    /** Partitions of the topic, or an empty list when it does not exist (yet). */
    protected List<TopicPartition> partitions(Duration timeout) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
        if (infos == null) return List.of();
        return infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    }

    /** Called on the reader thread before each poll; returns false while there is nothing to poll yet. */
    protected boolean ready() { return true; }

    /**
     * Assigns every partition of the topic and stands at its end, for readers that want only what comes
     * from now on; false (after a pause) while the topic does not exist yet, so that {@link #ready} can
     * return it as it is.
     */
    protected final boolean assignAllAtEnd() {
        List<TopicPartition> partitions = partitions(Duration.ofSeconds(2));
        if (partitions.isEmpty()) {
            pause(500);
            return false;
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
        return true;
    }

    /** Handles one record on the reader thread. */
    protected abstract void accept(ConsumerRecord<String, V> record);

    protected final boolean running() { return running; }

    protected final synchronized void startThread() {
        if (thread != null) throw new IllegalStateException(threadName + " already started");
        thread = new Thread(this::loop, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        try {
            while (running) {
                try {
                    if (!ready()) continue;
                    ConsumerRecords<String, V> records = consumer.poll(POLL);
                    for (ConsumerRecord<String, V> record : records) {
                        try {
                            accept(record);
                        } catch (RuntimeException e) {
                            log.error("{}: handling record {}-{}@{} failed", threadName, record.topic(), record.partition(), record.offset(), e);
                        }
                    }
                } catch (RecordDeserializationException e) {
                    TopicPartition tp = e.topicPartition();
                    if (Failures.isRetriable(e)) { // the registry is unreachable, not the record bad: read it again once it answers
                        log.warn("{}: cannot decode {}@{} while the schema registry is unreachable; retrying in 1 s: {}", threadName, tp, e.offset(),
                                e.getMessage());
                        consumer.seek(tp, e.offset());
                        pause(1000);
                        continue;
                    }
                    log.warn("{}: skipping unreadable record {}@{}: {}", threadName, tp, e.offset(), e.getMessage());
                    consumer.seek(tp, e.offset() + 1);
                } catch (WakeupException e) {
                    if (running) log.debug("{}: unexpected wakeup", threadName);
                } catch (KafkaException e) {
                    if (!running) break;
                    log.warn("{}: reading {} failed, retrying: {}", threadName, topic, e.toString());
                    pause(1000);
                }
            }
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    protected final void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public synchronized void close() {
        running = false;
        if (thread == null) {
            consumer.close(Duration.ofSeconds(2));
            return;
        }
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
