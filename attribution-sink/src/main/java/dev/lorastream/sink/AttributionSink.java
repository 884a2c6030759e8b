package dev.lorastream.sink;

import dev.lorastream.schemas.config.KafkaClientSettings;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.ops.GroupMembership;
import dev.lorastream.schemas.registry.RememberingSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.sink.internal.DeadLetters;
import dev.lorastream.sink.internal.Decoded;
import dev.lorastream.sink.internal.RecordDecoder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Consumes {@code attribution.events} (read_committed, so aborted transactions are never seen)
 * into the {@link AttributionStore}. Records are buffered until {@link SinkConfig#batchSize()} or
 * {@link SinkConfig#flushInterval()}; each batch is then decoded, its events written in one DuckDB
 * transaction, its undecodable or invalid records dead-lettered (component {@code sink}), and only
 * after both its offsets are committed. A crash before the commit replays the batch, which the
 * store's idempotence makes harmless. A failed batch is rewound and retried with backoff; after
 * {@value #MAX_CONSECUTIVE_FAILURES} failures in a row the sink stops and reports {@link #failure()}.
 */
public final class AttributionSink implements AutoCloseable {
    static final int MAX_CONSECUTIVE_FAILURES = 10;
    private static final Logger log = LoggerFactory.getLogger(AttributionSink.class);
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

    private final SinkConfig config;
    private final AttributionStore store;
    private final RecordDecoder decoder;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<String, DeadLetter> dlqProducer;
    private final SinkMetrics metrics = new SinkMetrics();
    /** The group instance id (null: dynamic membership), held until close. */
    private final GroupMembership.Claim membership;
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final List<ConsumerRecord<byte[], byte[]>> buffer = new ArrayList<>();
    private long bufferedSinceNanos;
    private volatile boolean running;
    private volatile Throwable failure;
    private Thread thread;
    private boolean closed;

    public AttributionSink(SinkConfig config) {
        this(config, RememberingSchemaRegistryClient.connect(config.schemaRegistryUrl()));
    }

    /** With a given registry client (shared with other components of one process, or a test double). */
    public AttributionSink(SinkConfig config, SchemaRegistryClient registry) {
        this.config = config;
        this.store = AttributionStore.open(config.dataDir(), config.parquetExport());
        this.membership = GroupMembership.claim(config.configuredInstanceId(), config.instanceLockFile());
        try {
            this.decoder = new RecordDecoder(registry);
            this.consumer = new KafkaConsumer<>(KafkaClientSettings.with(consumerProperties(config, membership.instanceId())), new ByteArrayDeserializer(), new ByteArrayDeserializer());
            this.dlqProducer = new KafkaProducer<>(KafkaClientSettings.with(producerProperties(config)), new StringSerializer(), new AvroSerializer<>(registry, false));
        } catch (RuntimeException e) {
            membership.close();
            store.close();
            throw e;
        }
    }

    /** Starts the poll loop on its own thread. */
    public synchronized void start() {
        if (closed) throw new IllegalStateException("attribution sink is closed");
        if (thread != null) throw new IllegalStateException("attribution sink already started");
        running = true;
        thread = Thread.ofPlatform().name("attribution-sink-" + config.groupId()).start(this::run);
        log.info("attribution sink started: {} -> {} ({})", config.topic(), store.dataDir().resolve(AttributionStore.DB_FILE),
                membership.instanceId() == null ? "dynamic group membership" : "static group member " + membership.instanceId());
    }

    /** Rows in the store (events counted once each). */
    public long rowCount() { return store.rowCount(); }

    public SinkMetrics metrics() { return metrics; }

    /** Whether the poll loop is running (false before {@link #start()}, after {@link #close()} and after a failure). */
    public boolean isRunning() { return running && thread != null && thread.isAlive(); }

    /** Why the poll loop stopped on its own, if it did. */
    public Optional<Throwable> failure() { return Optional.ofNullable(failure); }

    public AttributionStore store() { return store; }

    /** Stops the loop (writing and committing what is buffered), then closes the consumer, producer and store. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        running = false;
        stopping.countDown();
        if (thread != null) {
            consumer.wakeup();
            try {
                thread.join(CLOSE_WAIT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) log.warn("attribution sink thread did not stop within {}", CLOSE_WAIT);
        } else {
            consumer.close(GroupMembership.closeOptions(config.leaveGroupOnClose()));
        }
        dlqProducer.close(Duration.ofSeconds(10));
        store.close();
        membership.close();
        log.info("attribution sink closed: {}", metrics);
    }

    private void run() {
        int failures = 0;
        try {
            consumer.subscribe(List.of(config.topic()), new Rebalance());
            while (running) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(config.pollTimeout());
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    if (buffer.isEmpty()) bufferedSinceNanos = System.nanoTime();
                    buffer.add(record);
                }
                metrics.add(SinkMetrics.RECORDS_CONSUMED, records.count());
                if (!flushDue()) continue;
                if (flushOrRewind()) {
                    failures = 0;
                } else if (++failures >= MAX_CONSECUTIVE_FAILURES) {
                    throw new IllegalStateException("attribution sink gave up after " + failures + " failed batches in a row");
                } else {
                    stopping.await(Math.min(200L << (failures - 1), 5_000L), TimeUnit.MILLISECONDS);
                }
            }
        } catch (WakeupException e) {
            if (running) failure = e;
        } catch (Throwable t) {
            failure = t;
            log.error("attribution sink stopped: {}", t.toString(), t);
        } finally {
            running = false;
            if (failure == null && !buffer.isEmpty()) flushOrRewind();
            try {
                // a static member that closes stays in the group until its session times out: a sink stopped on purpose leaves
                consumer.close(GroupMembership.closeOptions(config.leaveGroupOnClose()));
            } catch (RuntimeException e) {
                log.warn("closing the attribution consumer failed: {}", e.toString());
            }
        }
    }

    private boolean flushDue() {
        if (buffer.isEmpty()) return false;
        return buffer.size() >= config.batchSize()
                || System.nanoTime() - bufferedSinceNanos >= config.flushInterval().toNanos();
    }

    /** Writes the buffer batch by batch; on a failure rewinds the consumer to the first unwritten record. */
    private boolean flushOrRewind() {
        while (!buffer.isEmpty()) {
            List<ConsumerRecord<byte[], byte[]>> batch = buffer.subList(0, Math.min(buffer.size(), config.batchSize()));
            try {
                writeBatch(batch);
            } catch (RuntimeException | InterruptedException | ExecutionException e) {
                if (e instanceof InterruptedException) Thread.currentThread().interrupt();
                metrics.add(SinkMetrics.BATCHES_FAILED, 1);
                log.warn("writing a batch of {} attribution records failed, rewinding to read it again: {}", batch.size(), e.toString());
                rewind();
                return false;
            }
            batch.clear();
        }
        return true;
    }

    private void writeBatch(List<ConsumerRecord<byte[], byte[]>> batch) throws InterruptedException, ExecutionException {
        List<SourcedEvent> events = new ArrayList<>(batch.size());
        List<ProducerRecord<String, DeadLetter>> letters = new ArrayList<>();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Instant now = Instant.now();
        for (ConsumerRecord<byte[], byte[]> record : batch) {
            switch (decoder.decode(record.topic(), record.value())) {
                case Decoded.Accepted accepted -> events.add(new SourcedEvent(accepted.event(), record.partition(), record.offset()));
                case Decoded.Rejected rejected -> {
                    log.warn("dead-lettering record {}-{}@{}: {} {}", record.topic(), record.partition(), record.offset(),
                            rejected.errorCode(), rejected.reason());
                    letters.add(new ProducerRecord<>(config.dlqTopic(), rejected.requestId(), DeadLetters.of(record, rejected, now)));
                }
            }
            offsets.put(new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
        }
        AttributionStore.WriteResult written = store.write(events);
        List<Future<RecordMetadata>> sent = new ArrayList<>(letters.size());
        for (ProducerRecord<String, DeadLetter> letter : letters) sent.add(dlqProducer.send(letter));
        dlqProducer.flush();
        for (Future<RecordMetadata> f : sent) f.get();
        commit(offsets);
        metrics.add(SinkMetrics.EVENTS_INSERTED, written.inserted());
        metrics.add(SinkMetrics.EVENTS_DUPLICATE, written.duplicates());
        metrics.add(SinkMetrics.RECORDS_DEAD_LETTERED, letters.size());
        metrics.add(SinkMetrics.BATCHES_COMMITTED, 1);
        log.debug("committed a batch: {} inserted, {} duplicates, {} dead-lettered", written.inserted(), written.duplicates(), letters.size());
    }

    private void commit(Map<TopicPartition, OffsetAndMetadata> offsets) {
        try {
            consumer.commitSync(offsets);
        } catch (WakeupException e) {
            // close() woke the consumer while this batch was being written: finish the commit, the loop then stops.
            consumer.commitSync(offsets);
        }
    }

    /** Seeks every partition that still has buffered records back to its first one and drops the buffer. */
    private void rewind() {
        Map<TopicPartition, Long> first = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : buffer) {
            first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
        }
        buffer.clear();
        try {
            var assigned = consumer.assignment();
            first.forEach((tp, offset) -> {
                if (assigned.contains(tp)) consumer.seek(tp, offset);
            });
        } catch (KafkaException e) {
            log.warn("rewinding the attribution consumer failed: {}", e.toString());
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // Write what is buffered while the partitions are still ours; on failure the next owner re-reads it.
            if (!buffer.isEmpty()) flushOrRewind();
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            log.info("attribution sink assigned {}", partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            // Not ours any more and their offsets cannot be committed: leave them to the new owner.
            buffer.removeIf(r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
        }
    }

    static Properties consumerProperties(SinkConfig config, String instanceId) {
        Properties p = new Properties();
        // static membership, short sessions, cooperative rebalances (the rebalance listener writes what is buffered on any revoke)
        p.putAll(GroupMembership.consumer(instanceId, config.sessionTimeout()));
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.batchSize());
        return p;
    }

    private static Properties producerProperties(SinkConfig config) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return p;
    }
}
