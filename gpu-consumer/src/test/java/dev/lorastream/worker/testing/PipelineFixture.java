package dev.lorastream.worker.testing;

import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.WorkerConfig;
import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.demo.DemoModels;
import dev.lorastream.engine.onnx.OnnxLoraEngine;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.function.Predicate;

/**
 * What the worker's integration tests share: the real broker and registry of {@link TestPlatform},
 * the pipeline's topics, the demo models, producers of routed requests (typed or raw bytes) and
 * read_committed readers of the output topics from offsets captured before a test.
 */
public final class PipelineFixture {
    public static final int PARTITIONS = 4;
    private static final Path MODELS = Path.of("target", "it-models");

    private final KafkaPlatform platform;
    private final SchemaRegistryClient registry;
    private final DemoModels.Paths models;

    public PipelineFixture() {
        platform = TestPlatform.shared();
        TopicSetup.ensure(platform.bootstrapServers(), PARTITIONS, (short) 1);
        registry = new HttpSchemaRegistryClient(platform.schemaRegistryUrl());
        Topics.declareSubjects(registry);
        models = DemoModels.write(MODELS.toAbsolutePath());
    }

    public SchemaRegistryClient registry() { return registry; }

    public DemoModels.Paths models() { return models; }

    public OnnxLoraEngine openEngine(int maxBatch) {
        return OnnxLoraEngine.open(new EngineConfig(models.backbone(), models.adapters(), "cpu", maxBatch));
    }

    public WorkerConfig workerConfig(String workerId, Map<String, Object> more) {
        Map<String, Object> raw = new HashMap<>(Map.of(
                "bootstrap.servers", platform.bootstrapServers(),
                "schema.registry.url", platform.schemaRegistryUrl(),
                "model.dir", models.backbone().toString(),
                "adapter.dir", models.adapters().toString(),
                "worker.id", workerId,
                "max.batch.size", 4,
                "max.poll.records", 8,
                "heartbeat.interval.ms", 250,
                "retry.backoff.ms", 50,
                "retry.backoff.max.ms", 500));
        raw.putAll(more);
        return WorkerConfig.from(raw);
    }

    /** The names of the topics on the cluster. */
    public java.util.Set<String> topicNames() throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers()))) {
            return admin.listTopics().names().get();
        }
    }

    /** Creates a topic with the given topic configs (e.g. a small {@code max.message.bytes}). */
    public void createTopic(String name, int partitions, Map<String, String> configs) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                Map.of(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers()))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(name, partitions, (short) 1).configs(configs))).all().get();
        }
    }

    /** The current end offsets (last stable offsets) of every partition of a topic. */
    public Map<TopicPartition, Long> endOffsets(String topic) {
        try (KafkaConsumer<byte[], byte[]> c = rawConsumer()) {
            return c.endOffsets(partitions(c, topic));
        }
    }

    /** A request to the routed topic, keyed as the router keys it (adapter id or the base key); returns where it landed. */
    public RecordMetadata produce(InferenceRequest request) {
        return produce(request, null);
    }

    public RecordMetadata produce(InferenceRequest request, Integer partition) {
        byte[] value = new AvroSerializer<InferenceRequest>(registry, false).serialize(Topics.ROUTED, request);
        String key = request.getAdapterId() == null ? Topics.BASE_MODEL_KEY : request.getAdapterId();
        return produceRaw(key.getBytes(StandardCharsets.UTF_8), value, partition);
    }

    /** Bytes of a record of another type, as its own topic's serializer writes them. */
    public byte[] serializedFor(String topic, SpecificRecord record) {
        return new AvroSerializer<>(registry, false).serialize(topic, record);
    }

    public RecordMetadata produceRaw(byte[] key, byte[] value, Integer partition) {
        Map<String, Object> p = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            return producer.send(new ProducerRecord<>(Topics.ROUTED, partition, key, value)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot produce to " + Topics.ROUTED + ": " + e.getCause(), e.getCause());
        }
    }

    /** Sends many requests through one producer (faster than {@link #produce} per request). */
    public void produceAll(List<InferenceRequest> requests) {
        Map<String, Object> p = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, InferenceRequest> producer = new KafkaProducer<>(p, new StringSerializer(),
                new AvroSerializer<>(registry, false))) {
            for (InferenceRequest r : requests) {
                producer.send(new ProducerRecord<>(Topics.ROUTED, r.getAdapterId() == null ? Topics.BASE_MODEL_KEY : r.getAdapterId(), r));
            }
            producer.flush();
        }
    }

    /**
     * Reads a topic with read_committed from {@code from} up to its end offsets at the time of the
     * call, decoding values as {@code type} and keeping those that {@code keep} accepts.
     */
    public <T extends SpecificRecord> List<ConsumerRecord<String, T>> readCommitted(String topic, Map<TopicPartition, Long> from,
                                                                                  Class<T> type, Predicate<T> keep) {
        AvroDeserializer<T> values = new AvroDeserializer<>(registry, type);
        List<ConsumerRecord<String, T>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = rawConsumer()) {
            List<TopicPartition> tps = partitions(c, topic);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            c.assign(tps);
            for (TopicPartition tp : tps) c.seek(tp, from.getOrDefault(tp, 0L));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) throw new AssertionError("could not read " + topic + " up to " + end);
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) continue;
                    T value = values.deserialize(topic, r.value());
                    if (!keep.test(value)) continue;
                    out.add(new ConsumerRecord<>(r.topic(), r.partition(), r.offset(),
                            r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8), value));
                }
            }
        }
        return out;
    }

    /**
     * Polls {@code readCommitted} until {@code done} holds for what was read or the timeout passes.
     *
     * @return the last read
     */
    public <T extends SpecificRecord> List<ConsumerRecord<String, T>> awaitCommitted(String topic, Map<TopicPartition, Long> from,
                                                                                   Class<T> type, Predicate<T> keep,
                                                                                   Predicate<List<ConsumerRecord<String, T>>> done,
                                                                                   Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<ConsumerRecord<String, T>> read = readCommitted(topic, from, type, keep);
            if (done.test(read)) return read;
            if (System.nanoTime() > deadline) return read;
            Thread.sleep(250);
        }
    }

    private KafkaConsumer<byte[], byte[]> rawConsumer() {
        Map<String, Object> p = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
        List<TopicPartition> tps = new ArrayList<>();
        for (PartitionInfo info : c.partitionsFor(topic)) tps.add(new TopicPartition(topic, info.partition()));
        return tps;
    }
}
