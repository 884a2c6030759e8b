package dev.lorastream.worker.internal;

import dev.lorastream.schemas.CancelRequest;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cancellations on inference.cancels ({@link CancelRequest}) since this worker started, read on
 * a thread of their own by a group-less consumer of every partition (every worker sees every
 * cancellation; the one that has the request acts on it). The most recent {@value #REMEMBERED} are
 * kept. A missing topic is looked for again until it exists.
 */
public final class Cancellations implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Cancellations.class);
    static final int REMEMBERED = 10_000;

    private final Consumer<String, CancelRequest> consumer;
    private final Map<String, CancelRequest> recent = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, CancelRequest> eldest) { return size() > REMEMBERED; }
    };
    private final Thread thread;
    private volatile boolean running = true;

    public Cancellations(Consumer<String, CancelRequest> consumer, String workerId) {
        this.consumer = consumer;
        this.thread = new Thread(this::run, "lorastream-cancels-" + workerId);
        thread.setDaemon(true);
        thread.start();
    }

    /** The cancellation of this request, or null. */
    public CancelRequest of(String requestId) {
        synchronized (recent) {
            return recent.get(requestId);
        }
    }

    private void run() {
        try {
            boolean assigned = false;
            while (running) {
                try {
                    if (!assigned) {
                        List<PartitionInfo> infos = consumer.partitionsFor(Topics.CANCELS, Duration.ofSeconds(2));
                        if (infos == null || infos.isEmpty()) {
                            Thread.sleep(500);
                            continue;
                        }
                        List<TopicPartition> parts = infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
                        consumer.assign(parts);
                        consumer.seekToEnd(parts);
                        parts.forEach(consumer::position);
                        assigned = true;
                    }
                    for (ConsumerRecord<String, CancelRequest> r : consumer.poll(Duration.ofMillis(100))) {
                        if (r.value() == null) continue;
                        synchronized (recent) {
                            recent.put(r.value().getRequestId(), r.value());
                        }
                    }
                } catch (RecordDeserializationException e) {
                    // one unreadable record must not stop cancellations: skip it
                    log.warn("skipping unreadable record {}@{} on {}: {}", e.topicPartition(), e.offset(), Topics.CANCELS, e.getMessage());
                    consumer.seek(e.topicPartition(), e.offset() + 1);
                } catch (WakeupException e) {
                    // closing
                } catch (KafkaException e) {
                    if (!running) break;
                    log.warn("reading {} failed, retrying: {}", Topics.CANCELS, e.toString());
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
