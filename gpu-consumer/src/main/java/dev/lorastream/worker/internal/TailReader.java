package dev.lorastream.worker.internal;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads every partition of one topic from its end on a daemon thread of its own, with a group-less
 * consumer (every worker sees every record), and hands each poll's records to {@link #accept}. A
 * missing topic is looked for again until it exists; an unreadable record is skipped with a warning
 * (one bad record must not stop the reader); other Kafka errors are retried after a second.
 */
abstract class TailReader<V> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TailReader.class);

    private final Consumer<String, V> consumer;
    private final String topic;
    private final Thread thread;
    private volatile boolean running = true;

    TailReader(Consumer<String, V> consumer, String topic, String threadName) {
        this.consumer = consumer;
        this.topic = topic;
        this.thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
    }

    /** Starts the thread (call at the end of the subclass's constructor). */
    final void startReading() { thread.start(); }

    /** The records of one poll, in order (none null-valued are left out: tombstones are records too). */
    protected abstract void accept(List<ConsumerRecord<String, V>> records);

    /** Once the reader has its partitions and stands at their end (before any record is accepted). */
    protected void positioned() {}

    private void run() {
        try {
            boolean assigned = false;
            while (running) {
                try {
                    if (!assigned) {
                        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(2));
                        if (infos == null || infos.isEmpty()) {
                            Thread.sleep(500);
                            continue;
                        }
                        List<TopicPartition> parts = infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
                        consumer.assign(parts);
                        consumer.seekToEnd(parts);
                        parts.forEach(consumer::position);
                        assigned = true;
                        positioned();
                    }
                    ConsumerRecords<String, V> polled = consumer.poll(Duration.ofMillis(100));
                    if (polled.isEmpty()) continue;
                    List<ConsumerRecord<String, V>> records = new ArrayList<>(polled.count());
                    polled.forEach(records::add);
                    accept(records);
                } catch (RecordDeserializationException e) {
                    log.warn("skipping unreadable record {}@{} on {}: {}", e.topicPartition(), e.offset(), topic, e.getMessage());
                    consumer.seek(e.topicPartition(), e.offset() + 1);
                } catch (WakeupException e) {
                    // closing
                } catch (KafkaException e) {
                    if (!running) break;
                    log.warn("reading {} failed, retrying: {}", topic, e.toString());
                    Thread.sleep(1000);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
