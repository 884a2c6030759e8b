package dev.lorastream.router.placement;

import dev.lorastream.schemas.config.KafkaClientSettings;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Feeds a {@link FleetTable} from workers.status on its own thread: every partition assigned
 * (no consumer group: every router reads every heartbeat), from the records of the last two worker
 * timeouts on, then following the topic. A record that is not a WorkerStatus is logged with its
 * offset and skipped (heartbeats are our workers' own; the next one replaces it); a tombstone
 * removes its worker.
 */
public final class FleetListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FleetListener.class);

    private final FleetTable table;
    private final KafkaConsumer<String, byte[]> consumer;
    private final AvroDeserializer<WorkerStatus> decoder;
    private final Clock clock;
    private final Thread thread;
    private final CompletableFuture<Void> caughtUp = new CompletableFuture<>();
    private final AtomicLong statuses = new AtomicLong(), refused = new AtomicLong();
    private volatile boolean closed;

    public FleetListener(String bootstrapServers, String clientId, SchemaRegistryClient registry, FleetTable table, Clock clock) {
        this.table = table;
        this.clock = clock;
        this.decoder = new AvroDeserializer<>(registry, WorkerStatus.class);
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        this.consumer = new KafkaConsumer<>(KafkaClientSettings.with(p), new StringDeserializer(), new ByteArrayDeserializer());
        this.thread = Thread.ofPlatform().daemon().name("lorastream-fleet-" + clientId).unstarted(this::run);
    }

    /** Starts following workers.status; returns once the recent heartbeats are read (or after {@code wait}). */
    public FleetListener start(Duration wait) {
        thread.start();
        try {
            caughtUp.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            log.warn("workers.status not read within {}; placing by hash until heartbeats arrive", wait);
        } catch (Exception e) {
            log.warn("workers.status: {}", e.toString());
        }
        return this;
    }

    private void run() {
        try {
            List<TopicPartition> parts = partitions();
            consumer.assign(parts);
            Map<TopicPartition, Long> since = new HashMap<>();
            long from = clock.millis() - 2 * table.timeout().toMillis();
            for (TopicPartition tp : parts) since.put(tp, from);
            Map<TopicPartition, OffsetAndTimestamp> at = consumer.offsetsForTimes(since);
            Map<TopicPartition, Long> ends = consumer.endOffsets(parts);
            for (TopicPartition tp : parts) {
                OffsetAndTimestamp o = at.get(tp);
                consumer.seek(tp, o != null ? o.offset() : ends.get(tp));
            }
            while (!closed) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) apply(r);
                if (!caughtUp.isDone() && caughtUp(ends)) caughtUp.complete(null);
            }
        } catch (WakeupException e) {
            if (!closed) log.warn("fleet listener woken: {}", e.toString());
        } catch (RuntimeException e) {
            log.error("fleet listener stopped: {}; placement keeps the last table until workers time out", e.toString());
            caughtUp.completeExceptionally(e);
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private List<TopicPartition> partitions() {
        for (int attempt = 0; ; attempt++) {
            List<PartitionInfo> info = consumer.partitionsFor(Topics.WORKER_STATUS, Duration.ofSeconds(10));
            if (info != null && !info.isEmpty()) {
                List<TopicPartition> parts = new ArrayList<>();
                for (PartitionInfo i : info) parts.add(new TopicPartition(i.topic(), i.partition()));
                return parts;
            }
            if (closed) throw new WakeupException();
            if (attempt % 10 == 0) log.warn("topic {} has no partitions yet; waiting for it", Topics.WORKER_STATUS);
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new WakeupException();
            }
        }
    }

    private boolean caughtUp(Map<TopicPartition, Long> ends) {
        for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) if (consumer.position(e.getKey()) < e.getValue()) return false;
        return true;
    }

    void apply(ConsumerRecord<String, byte[]> r) {
        if (r.value() == null) {
            if (r.key() != null) table.remove(r.key());
            return;
        }
        WorkerStatus s;
        try {
            s = decoder.deserialize(r.topic(), r.value());
        } catch (RuntimeException e) {
            refused.incrementAndGet();
            log.warn("workers.status partition {} offset {} (key {}) is not a WorkerStatus, skipped: {}", r.partition(), r.offset(), r.key(), e.getMessage());
            return;
        }
        statuses.incrementAndGet();
        if ("STOPPING".equals(s.getState())) table.remove(s.getWorkerId());
        else table.update(s);
    }

    /** Heartbeats applied, and records that were not WorkerStatus. */
    public long statuses() { return statuses.get(); }

    public long refused() { return refused.get(); }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
