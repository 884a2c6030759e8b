package dev.lorastream.router;

import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** The router against a real broker and a real schema registry (embedded, or containers when Docker is reachable). */
class RouterIT {
    private static final int PARTITIONS = 4;
    private static final Duration WAIT = Duration.ofSeconds(90);

    private static KafkaPlatform platform;
    private static SchemaRegistryClient registry;

    @TempDir
    Path stateDir;

    @BeforeAll
    static void platform() {
        platform = TestPlatform.shared();
        TopicSetup.ensure(platform.bootstrapServers(), PARTITIONS, (short) 1);
        registry = new HttpSchemaRegistryClient(platform.schemaRegistryUrl());
        Topics.declareSubjects(registry);
    }

    private RouterApp router(String run) {
        return new RouterApp(new RouterConfig(Map.of(
                RouterConfig.BOOTSTRAP_SERVERS, platform.bootstrapServers(),
                RouterConfig.SCHEMA_REGISTRY_URL, platform.schemaRegistryUrl(),
                RouterConfig.APPLICATION_ID, "router-it-" + run,
                RouterConfig.STATE_DIR, stateDir.toString(),
                RouterConfig.NUM_STREAM_THREADS, 2,
                RouterConfig.PLACEMENT, RouterConfig.PLACEMENT_HASH))); // load-aware placement has its own IT
    }

    @Test
    void routesValidRequestsByAdapterAndDeadLettersInvalidOnes() {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String[] adapters = {"dermatology", "cardiology", "nutrition", null};
        List<InferenceRequest> valid = new ArrayList<>();
        for (int i = 0; i < 12; i++) valid.add(Requests.valid(run + "-ok-" + i, adapters[i % adapters.length]).build());
        InferenceRequest badTemperature = Requests.valid(run + "-bad-temp", "dermatology")
                .setParams(Requests.params().setTemperature(3f).build()).build();
        InferenceRequest blankTenant = Requests.valid(run + "-bad-tenant", "cardiology").setTenant(" ").build();
        String garbageKey = run + "-garbage";
        String wrongSchemaKey = run + "-wrong-schema";

        try (RouterApp app = router(run)) {
            app.start();
            try (KafkaProducer<String, byte[]> producer = producer()) {
                AvroSerializer<InferenceRequest> requests = new AvroSerializer<>(registry, false);
                for (InferenceRequest r : valid) send(producer, r.getRequestId(), requests.serialize(Topics.REQUESTS, r));
                send(producer, badTemperature.getRequestId(), requests.serialize(Topics.REQUESTS, badTemperature));
                send(producer, blankTenant.getRequestId(), requests.serialize(Topics.REQUESTS, blankTenant));
                send(producer, garbageKey, "{\"not\": \"avro\"}".getBytes(StandardCharsets.UTF_8));
                send(producer, wrongSchemaKey, new AvroSerializer<WorkerStatus>(registry, false).serialize(Topics.WORKER_STATUS,
                        WorkerStatus.newBuilder().setWorkerId("w-" + run).setHost("h").setState("RUNNING").setRunningRequests(0)
                                .setWaitingRequests(0).setFreeMemoryBytes(1).setExecutionProvider("CPU").setBaseModel("demo")
                                .setHeartbeatAtMs(Instant.now()).build()));
                producer.flush();
            }

            List<ConsumerRecord<String, InferenceRequest>> routed = readUntil(Topics.ROUTED, InferenceRequest.class, 12,
                    r -> r.value().getRequestId().startsWith(run));
            List<ConsumerRecord<String, DeadLetter>> letters = readUntil(Topics.DLQ, DeadLetter.class, 4,
                    r -> r.key() != null && r.key().startsWith(run));
            List<ConsumerRecord<String, InferenceResponse>> responses = readUntil(Topics.RESPONSES, InferenceResponse.class, 2,
                    r -> r.key().startsWith(run));

            assertThat(routed).extracting(r -> r.value().getRequestId())
                    .containsExactlyInAnyOrderElementsOf(valid.stream().map(InferenceRequest::getRequestId).toList());
            HashPlacement placement = new HashPlacement();
            Map<String, Integer> partitionOfAdapter = new HashMap<>();
            for (ConsumerRecord<String, InferenceRequest> r : routed) {
                String adapterKey = r.value().getAdapterId() == null ? Topics.BASE_MODEL_KEY : r.value().getAdapterId();
                assertThat(r.key()).isEqualTo(adapterKey);
                assertThat(r.partition()).as("partition of %s", adapterKey).isEqualTo(placement.partition(adapterKey, null, PARTITIONS));
                assertThat(partitionOfAdapter.merge(adapterKey, r.partition(), (a, b) -> a.equals(b) ? a : -1)).isNotNegative();
            }
            assertThat(partitionOfAdapter).containsOnlyKeys("dermatology", "cardiology", "nutrition", Topics.BASE_MODEL_KEY);

            Map<String, DeadLetter> byKey = new HashMap<>();
            letters.forEach(r -> byKey.put(r.key(), r.value()));
            assertThat(byKey).containsOnlyKeys(badTemperature.getRequestId(), blankTenant.getRequestId(), garbageKey, wrongSchemaKey);
            assertThat(byKey.get(badTemperature.getRequestId()).getField()).isEqualTo("params.temperature");
            assertThat(byKey.get(badTemperature.getRequestId()).getErrorCode()).isEqualTo("BAD_PARAMETER");
            assertThat(byKey.get(blankTenant.getRequestId()).getField()).isEqualTo("tenant");
            assertThat(byKey.get(garbageKey).getErrorCode()).isEqualTo("MALFORMED_RECORD");
            assertThat(byKey.get(wrongSchemaKey).getErrorCode()).isEqualTo("WRONG_SCHEMA");
            assertThat(byKey.values()).allSatisfy(d -> {
                assertThat(d.getSourceTopic()).isEqualTo(Topics.REQUESTS);
                assertThat(d.getOriginalValue()).isNotNull();
                assertThat(d.getComponent()).isEqualTo("router");
            });

            assertThat(responses).extracting(ConsumerRecord::key)
                    .containsExactlyInAnyOrder(badTemperature.getRequestId(), blankTenant.getRequestId());
            assertThat(responses).allSatisfy(r -> assertThat(r.value().getStatus()).isEqualTo(ResponseStatus.ERROR));
        }
    }

    /**
     * A request of about 1 MiB (a large attributes map, as one HTTP POST could make it): its
     * dead letter and the caller's answer once carried it whole and exceeded the producer's 1 MiB, which
     * stopped the router for good. Now it is refused before anything is forwarded, with a bounded dead
     * letter and an answer without the attributes, and the next request is routed.
     */
    @Test
    void anOversizedRequestIsRefusedAndTheRouterGoesOn() {
        String run = UUID.randomUUID().toString().substring(0, 8);
        // invalid too (temperature 3): before the size rule its dead letter, the whole request plus the envelope, was over the
        // producer's 1 MiB, the send failed, and the stream thread died on it (the report's RecordTooLargeException)
        InferenceRequest big = Requests.valid(run + "-big", "dermatology").setParams(Requests.params().setTemperature(3f).build())
                .setAttributes(Map.of("blob", "x".repeat(1_048_150))).build();
        InferenceRequest after = Requests.valid(run + "-after", "dermatology").build();
        try (RouterApp app = router(run)) {
            app.start();
            try (KafkaProducer<String, byte[]> producer = producer()) {
                AvroSerializer<InferenceRequest> requests = new AvroSerializer<>(registry, false);
                byte[] bigBytes = requests.serialize(Topics.REQUESTS, big);
                assertThat(bigBytes.length).isGreaterThan(dev.lorastream.schemas.Limits.MAX_REQUEST_BYTES).isLessThan(1_048_400);
                send(producer, big.getRequestId(), bigBytes);
                producer.flush();
                send(producer, after.getRequestId(), requests.serialize(Topics.REQUESTS, after));
                producer.flush();
            }
            List<ConsumerRecord<String, InferenceRequest>> routed = readUntil(Topics.ROUTED, InferenceRequest.class, 1,
                    r -> r.value().getRequestId().startsWith(run));
            assertThat(routed.getFirst().value().getRequestId()).isEqualTo(after.getRequestId());
            DeadLetter letter = readUntil(Topics.DLQ, DeadLetter.class, 1, r -> big.getRequestId().equals(r.key())).getFirst().value();
            assertThat(letter.getErrorCode()).isEqualTo("TOO_LARGE");
            assertThat(letter.getField()).isEqualTo("request");
            assertThat(letter.getOriginalSize()).isGreaterThan(1_048_150L);
            assertThat(letter.getOriginalValue().remaining()).isEqualTo(dev.lorastream.schemas.Limits.MAX_DEAD_LETTER_ORIGINAL_BYTES);
            InferenceResponse answer = readUntil(Topics.RESPONSES, InferenceResponse.class, 1, r -> big.getRequestId().equals(r.key())).getFirst().value();
            assertThat(answer.getStatus()).isEqualTo(ResponseStatus.ERROR);
            assertThat(answer.getError().getCode()).isEqualTo("TOO_LARGE");
            assertThat(answer.getAttributes()).isEmpty();
            assertThat(app.state().isRunningOrRebalancing()).as("the router still runs").isTrue();
        }
    }

    /**
     * One request per request id, however its producer keyed and placed the records: a duplicate keyed by its id, one
     * without a key and one on another partition than its key's all meet the id's first use (those not placed by their
     * id by way of inference.requests.by-id). Not routed again; another tenant's is answered on its reply topic.
     */
    @Test
    void aRequestIdIsRoutedOnceWhateverTheKeyAndPartitionOfItsRecords() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String replies = "inference.responses.it-" + run;
        try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", platform.bootstrapServers()))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(replies, 1, (short) 1))).all().get();
        }
        InferenceRequest a = Requests.valid(run + "-a", "dermatology").build();
        InferenceRequest b = Requests.valid(run + "-b", "cardiology").build();
        InferenceRequest bOtherTenant = Requests.valid(run + "-b", "cardiology").setTenant("tenant-b").setReplyTopic(replies).build();
        InferenceRequest c = Requests.valid(run + "-c", null).build();
        try (RouterApp app = router(run); KafkaProducer<String, byte[]> producer = producer()) {
            app.start();
            AvroSerializer<InferenceRequest> requests = new AvroSerializer<>(registry, false);
            int bPartition = org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(
                    b.getRequestId().getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
            // first uses: keyed by id; keyed by id on another partition; no key
            send(producer, a.getRequestId(), requests.serialize(Topics.REQUESTS, a));
            producer.send(new ProducerRecord<>(Topics.REQUESTS, (bPartition + 1) % PARTITIONS, b.getRequestId(), requests.serialize(Topics.REQUESTS, b)));
            send(producer, null, requests.serialize(Topics.REQUESTS, c));
            producer.flush();
            readUntil(Topics.ROUTED, InferenceRequest.class, 3, r -> r.value().getRequestId().startsWith(run));

            // then the duplicates: no key; keyed by id from another tenant; no key
            send(producer, null, requests.serialize(Topics.REQUESTS, a));
            send(producer, b.getRequestId(), requests.serialize(Topics.REQUESTS, bOtherTenant));
            send(producer, null, requests.serialize(Topics.REQUESTS, c));
            producer.flush();

            List<ConsumerRecord<String, DeadLetter>> letters = readUntil(Topics.DLQ, DeadLetter.class, 3,
                    r -> r.key() != null && r.key().startsWith(run));
            assertThat(letters).extracting(ConsumerRecord::key).containsExactlyInAnyOrder(a.getRequestId(), b.getRequestId(), c.getRequestId());
            assertThat(letters).allSatisfy(r -> {
                assertThat(r.value().getErrorCode()).isEqualTo("DUPLICATE_REQUEST_ID");
                assertThat(r.value().getField()).isEqualTo("request_id");
                assertThat(r.value().getSourceTopic()).isEqualTo(Topics.REQUESTS);
            });
            InferenceResponse refused = readUntil(replies, InferenceResponse.class, 1, r -> true).getFirst().value();
            assertThat(refused.getTenant()).isEqualTo("tenant-b");
            assertThat(refused.getError().getCode()).isEqualTo("DUPLICATE_REQUEST_ID");
            // the duplicates were decided in transactions that are committed now: still one routed copy of each id
            assertThat(readToEnd(Topics.ROUTED, InferenceRequest.class, r -> r.value().getRequestId().startsWith(run)))
                    .extracting(r -> r.value().getRequestId() + " " + r.value().getTenant())
                    .containsExactlyInAnyOrder(a.getRequestId() + " tenant-a", b.getRequestId() + " tenant-a", c.getRequestId() + " tenant-a");
            assertThat(readToEnd(Topics.RESPONSES, InferenceResponse.class, r -> r.key() != null && r.key().startsWith(run)))
                    .as("the same tenant's duplicates are not answered").isEmpty();
        }
    }

    private static void send(KafkaProducer<String, byte[]> producer, String key, byte[] value) {
        producer.send(new ProducerRecord<>(Topics.REQUESTS, key, value));
    }

    private static KafkaProducer<String, byte[]> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1_048_576), new StringSerializer(), new ByteArraySerializer());
    }

    /** Every record of the topic, from its beginning to its end offsets now (committed records only), that {@code ours} accepts. */
    private static <V extends org.apache.avro.specific.SpecificRecord> List<ConsumerRecord<String, V>> readToEnd(
            String topic, Class<V> type, Predicate<ConsumerRecord<String, V>> ours) {
        AvroDeserializer<V> values = new AvroDeserializer<>(registry, type);
        List<ConsumerRecord<String, V>> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                assertThat(System.nanoTime()).as("read %s to its end within %s", topic, WAIT).isLessThan(deadline);
                for (ConsumerRecord<String, byte[]> raw : consumer.poll(Duration.ofMillis(500))) {
                    ConsumerRecord<String, V> decoded = new ConsumerRecord<>(raw.topic(), raw.partition(), raw.offset(), raw.key(),
                            values.deserialize(raw.topic(), raw.value()));
                    if (ours.test(decoded)) found.add(decoded);
                }
            }
        }
        return found;
    }

    /** Reads the topic from the beginning (committed records only) until {@code count} records match, or fails after {@link #WAIT}. */
    private static <V extends org.apache.avro.specific.SpecificRecord> List<ConsumerRecord<String, V>> readUntil(
            String topic, Class<V> type, int count, Predicate<ConsumerRecord<String, V>> ours) {
        AvroDeserializer<V> values = new AvroDeserializer<>(registry, type);
        List<ConsumerRecord<String, V>> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (found.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> raw : consumer.poll(Duration.ofMillis(500))) {
                    ConsumerRecord<String, V> decoded = new ConsumerRecord<>(raw.topic(), raw.partition(), raw.offset(), raw.key(),
                            values.deserialize(raw.topic(), raw.value()));
                    if (ours.test(decoded)) found.add(decoded);
                }
            }
        }
        assertThat(found).as("records of this run on %s", topic).hasSize(count);
        return found;
    }
}
