package dev.lorastream.sink;

import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.sink.internal.ParquetLayout;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import static dev.lorastream.sink.Events.event;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sink against a real broker and a real registry ({@link TestPlatform#shared()}). Each test reads
 * its own attribution topic (4 partitions) with its own group and data dir, so tests do not see
 * each other's records; the dead-letter topic is the shared {@code inference.dlq}, filtered by source topic.
 */
class AttributionSinkIT {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static KafkaPlatform platform;
    private static SchemaRegistryClient registry;

    @TempDir Path dataDir;
    private String id;
    private String topic;

    @BeforeAll
    static void platform() {
        platform = TestPlatform.shared();
        TopicSetup.ensure(platform.bootstrapServers(), 4, (short) 1);
        registry = new HttpSchemaRegistryClient(platform.schemaRegistryUrl());
    }

    @BeforeEach
    void ownTopic() throws Exception {
        id = UUID.randomUUID().toString().substring(0, 8);
        topic = Topics.ATTRIBUTION + ".it-" + id;
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get();
        }
    }

    @Test
    void committedEventsAreCountedOnceAndAbortedTransactionsNever() throws Exception {
        // Given a committed transaction of six events, an aborted one, and a committed one replaying d1 and adding n2
        try (KafkaProducer<String, AttributionEvent> producer = transactionalProducer()) {
            inTransaction(producer, true,
                    ev("d1", "acme", "dermatology"), ev("d2", "globex", "dermatology"), ev("c1", "acme", "cardiology"),
                    ev("n1", "acme", "nutrition"), ev("b1", "globex", null), ev("b2", "acme", null));
            inTransaction(producer, false, ev("a1", "acme", "nutrition"), ev("a2", "acme", "nutrition"));
            inTransaction(producer, true, ev("d1", "acme", "dermatology"), ev("n2", "acme", "nutrition"));
        }

        // When the sink consumes them
        try (AttributionSink sink = new AttributionSink(config(group()))) {
            sink.start();
            awaitTrue(() -> sink.rowCount() == 7 && sink.metrics().get(SinkMetrics.EVENTS_DUPLICATE) == 1, sink);

            // Then the replay is counted once and the aborted events (before n2 in its partition) never
            assertThat(sink.metrics().get(SinkMetrics.RECORDS_CONSUMED)).isEqualTo(8);
            assertThat(sink.metrics().get(SinkMetrics.RECORDS_DEAD_LETTERED)).isZero();

            // And the report works while the sink holds the DuckDB file, from the Parquet copy
            UsageReport.Summary whileRunning = UsageReport.summary(dataDir);
            assertThat(whileRunning.source()).isEqualTo(UsageReport.Source.PARQUET);
            assertThat(whileRunning.requestsByAdapter())
                    .isEqualTo(Map.of("(backbone)", 2L, "cardiology", 1L, "dermatology", 2L, "nutrition", 2L));
        }
        UsageReport.Summary afterwards = UsageReport.summary(dataDir);
        assertThat(afterwards.source()).isEqualTo(UsageReport.Source.DUCKDB);
        assertThat(afterwards.rows()).isEqualTo(7);
        try (Connection c = Duck.readOnly(dataDir)) {
            assertThat(Duck.strings(c, "SELECT event_id FROM attribution ORDER BY event_id"))
                    .containsExactly(eid("b1"), eid("b2"), eid("c1"), eid("d1"), eid("d2"), eid("n1"), eid("n2"));
        }
    }

    @Test
    void poisonRecordsAreDeadLetteredWithTheirReasonAndTheSinkCarriesOn() throws Exception {
        // Given bytes that are not Avro, a record of another event type, and a good event after them
        byte[] garbage = "definitely not avro".getBytes(StandardCharsets.UTF_8);
        byte[] otherType = new AvroSerializer<DeadLetter>(registry, false).serialize("it-other-" + id, DeadLetter.newBuilder()
                .setSourceTopic("x").setSourcePartition(0).setSourceOffset(0).setErrorCode("E").setReason("r")
                .setComponent("router").setFailedAtMs(Instant.EPOCH).build());
        byte[] good = new AvroSerializer<AttributionEvent>(registry, false).serialize(topic, ev("g1", "acme", "dermatology"));
        RecordMetadata garbageAt;
        RecordMetadata otherTypeAt;
        try (KafkaProducer<String, byte[]> raw = rawProducer()) {
            garbageAt = raw.send(new ProducerRecord<>(topic, "dermatology", garbage)).get();
            otherTypeAt = raw.send(new ProducerRecord<>(topic, "dermatology", otherType)).get();
            raw.send(new ProducerRecord<>(topic, "dermatology", good)).get();
        }

        // When the sink consumes them
        try (AttributionSink sink = new AttributionSink(config(group()))) {
            sink.start();
            awaitTrue(() -> sink.rowCount() == 1 && sink.metrics().get(SinkMetrics.RECORDS_DEAD_LETTERED) == 2, sink);

            // Then both poison records are on the dead-letter topic with their bytes, origin and reason
            List<DeadLetter> letters = deadLettersFrom(topic, 2);
            DeadLetter forGarbage = letters.stream().filter(l -> l.getSourceOffset() == garbageAt.offset()).findFirst().orElseThrow();
            assertThat(forGarbage.getComponent()).isEqualTo("sink");
            assertThat(forGarbage.getSourcePartition()).isEqualTo(garbageAt.partition());
            assertThat(forGarbage.getOriginalValue()).isEqualTo(ByteBuffer.wrap(garbage));
            assertThat(forGarbage.getOriginalKey()).isEqualTo(ByteBuffer.wrap("dermatology".getBytes(StandardCharsets.UTF_8)));
            assertThat(forGarbage.getErrorCode()).isEqualTo("MALFORMED_RECORD");
            assertThat(forGarbage.getReason()).contains("magic byte");

            DeadLetter forOtherType = letters.stream().filter(l -> l.getSourceOffset() == otherTypeAt.offset()).findFirst().orElseThrow();
            assertThat(forOtherType.getErrorCode()).isEqualTo("WRONG_SCHEMA");
            assertThat(forOtherType.getReason()).contains("DeadLetter");
            assertThat(forOtherType.getOriginalValue()).isEqualTo(ByteBuffer.wrap(otherType));

            // And the sink is still running
            assertThat(sink.isRunning()).isTrue();
            assertThat(sink.failure()).isEmpty();
        }
    }

    @Test
    void aRestartedSinkResumesFromItsOffsetsAndAReplayFromScratchCountsNothingTwice() throws Exception {
        String group = group();
        try (KafkaProducer<String, AttributionEvent> producer = transactionalProducer()) {
            // Given five events consumed by a first sink, which is then stopped
            inTransaction(producer, true, batch("r", 0, 5));
            try (AttributionSink first = new AttributionSink(config(group))) {
                first.start();
                awaitTrue(() -> first.rowCount() == 5, first);
            }
            // And five more events produced while no sink runs
            inTransaction(producer, true, batch("r", 5, 5));
        }

        // When a sink of the same group starts on the same data dir
        try (AttributionSink second = new AttributionSink(config(group))) {
            second.start();
            awaitTrue(() -> second.rowCount() == 10, second);
            // Then it reads only the five new records
            assertThat(second.metrics().get(SinkMetrics.RECORDS_CONSUMED)).isEqualTo(5);
            assertThat(second.metrics().get(SinkMetrics.EVENTS_DUPLICATE)).isZero();
        }

        // When a sink without committed offsets (as after a crash before any commit) replays the whole topic
        try (AttributionSink replay = new AttributionSink(config(group()))) {
            replay.start();
            awaitTrue(() -> replay.metrics().get(SinkMetrics.EVENTS_DUPLICATE) == 10, replay);
            // Then nothing is counted twice
            assertThat(replay.metrics().get(SinkMetrics.EVENTS_INSERTED)).isZero();
            assertThat(replay.rowCount()).isEqualTo(10);
        }
        ParquetLayout parquet = ParquetLayout.in(dataDir);
        try (Connection c = Duck.memory()) {
            assertThat(Duck.scalar(c, "SELECT count(*) FROM " + Duck.parquet(parquet.attributionDir()))).isEqualTo(10);
            assertThat(Duck.scalar(c, "SELECT count(DISTINCT event_id) FROM " + Duck.parquet(parquet.attributionDir()))).isEqualTo(10);
        }
    }

    private SinkConfig config(String group) {
        return SinkConfig.builder(platform.bootstrapServers(), platform.schemaRegistryUrl())
                .groupId(group).topic(topic).dataDir(dataDir)
                .batchSize(100).flushInterval(Duration.ofMillis(200)).pollTimeout(Duration.ofMillis(100))
                .build();
    }

    private String group() { return "it-sink-" + id + "-" + UUID.randomUUID().toString().substring(0, 4); }

    private String eid(String name) { return id + "-" + name; }

    private AttributionEvent ev(String name, String tenant, String adapter) {
        return adapter == null ? event(eid(name), tenant, null, 5, 7, 2.0)
                : event(eid(name), tenant, adapter, 10, 20, 4.0, "alice", 0.6, "bob", 0.4);
    }

    private AttributionEvent[] batch(String prefix, int from, int n) {
        String[] adapters = {"dermatology", "cardiology", "nutrition", null};
        AttributionEvent[] out = new AttributionEvent[n];
        for (int i = 0; i < n; i++) out[i] = ev(prefix + (from + i), "acme", adapters[(from + i) % adapters.length]);
        return out;
    }

    private KafkaProducer<String, AttributionEvent> transactionalProducer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-sink-producer-" + id);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        KafkaProducer<String, AttributionEvent> producer =
                new KafkaProducer<>(p, new StringSerializer(), new AvroSerializer<>(registry, false));
        producer.initTransactions();
        return producer;
    }

    private void inTransaction(KafkaProducer<String, AttributionEvent> producer, boolean commit, AttributionEvent... events)
            throws Exception {
        producer.beginTransaction();
        for (AttributionEvent e : events) {
            String key = e.getAdapterId() == null ? Topics.BASE_MODEL_KEY : e.getAdapterId();
            producer.send(new ProducerRecord<>(topic, key, e));
        }
        producer.flush();
        if (commit) producer.commitTransaction();
        else producer.abortTransaction();
    }

    private KafkaProducer<String, byte[]> rawProducer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    /** Dead letters whose source is {@code sourceTopic}, read from the start of the DLQ until {@code expected} are found. */
    private List<DeadLetter> deadLettersFrom(String sourceTopic, int expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<DeadLetter> found = new ArrayList<>();
        try (KafkaConsumer<String, DeadLetter> consumer =
                     new KafkaConsumer<>(p, new StringDeserializer(), new AvroDeserializer<>(registry, DeadLetter.class))) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.DLQ).stream()
                    .map(info -> new TopicPartition(info.topic(), info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (found.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, DeadLetter> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value().getSourceTopic().equals(sourceTopic)) found.add(r.value());
                }
            }
        }
        assertThat(found).as("dead letters from " + sourceTopic).hasSize(expected);
        return found;
    }

    private static void awaitTrue(BooleanSupplier condition, AttributionSink sink) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("sink did not get there within " + WAIT + ": rows=" + sink.rowCount() + " " + sink.metrics()
                        + " failure=" + sink.failure().map(Throwable::toString).orElse("none"));
            }
            if (sink.failure().isPresent()) throw new AssertionError("sink failed", sink.failure().get());
            Thread.sleep(100);
        }
    }
}
