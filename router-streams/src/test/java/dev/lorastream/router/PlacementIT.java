package dev.lorastream.router;

import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.router.placement.FleetTable;
import dev.lorastream.router.placement.LoadAwarePlacement;
import dev.lorastream.router.placement.PlacementMetrics;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two instances of the router (one application, the request partitions split between them) place
 * requests by the heartbeats of three workers on workers.status, against a real broker and
 * registry: each request lands where a placement fed the same heartbeats puts it (device holder,
 * host holder, a cold adapter away from the busy worker), whichever instance routed it.
 */
class PlacementIT {
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

    private RouterApp router(String run, int instance) {
        return new RouterApp(new RouterConfig(Map.of(
                RouterConfig.BOOTSTRAP_SERVERS, platform.bootstrapServers(),
                RouterConfig.SCHEMA_REGISTRY_URL, platform.schemaRegistryUrl(),
                RouterConfig.APPLICATION_ID, "placement-it-" + run,
                RouterConfig.STATE_DIR, stateDir.resolve("r" + instance).toString())));
    }

    private static WorkerStatus status(String id, List<Integer> partitions, int running, List<String> device, List<String> host, String state) {
        return WorkerStatus.newBuilder().setWorkerId(id).setHost("h").setState(state).setAssignedPartitions(partitions)
                .setRunningRequests(running).setWaitingRequests(0).setFreeMemoryBytes(1).setResidentAdapters(List.of())
                .setExecutionProvider("SIM").setBaseModel("m").setHeartbeatAtMs(Instant.now()).setMaxRows(4).setBankSlots(8)
                .setBankSlotsUsed(device.size()).setDeviceAdapters(device).setHostAdapters(host).setHeartbeatIntervalMs(500).setSimulated(true).build();
    }

    @Test
    void twoRouterInstancesPlaceEveryRequestAsTheWorkersHeartbeatsSay() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String busy = "busy-" + run, holder = "holder-" + run, host = "host-" + run;
        String cardiology = "cardiology-" + run, nutrition = "nutrition-" + run;
        List<WorkerStatus> beats = List.of(
                status(busy, List.of(0, 1), 5, List.of(), List.of(), "RUNNING"),
                status(holder, List.of(2), 1, List.of(cardiology), List.of(cardiology), "RUNNING"),
                status(host, List.of(3), 0, List.of(), List.of(nutrition), "RUNNING"));
        AvroSerializer<WorkerStatus> statuses = new AvroSerializer<>(registry, false);
        ScheduledExecutorService beating = Executors.newSingleThreadScheduledExecutor();
        try (KafkaProducer<String, byte[]> producer = producer()) {
            Runnable beat = () -> {
                for (WorkerStatus s : beats) {
                    s.setHeartbeatAtMs(Instant.now());
                    producer.send(new ProducerRecord<>(Topics.WORKER_STATUS, s.getWorkerId(), statuses.serialize(Topics.WORKER_STATUS, s)));
                }
                producer.flush();
            };
            beat.run();
            beating.scheduleAtFixedRate(beat, 300, 300, TimeUnit.MILLISECONDS);

            List<InferenceRequest> requests = new ArrayList<>();
            String[] adapters = {cardiology, nutrition, "cold-a-" + run, "cold-b-" + run, "cold-c-" + run};
            for (int i = 0; i < 40; i++) requests.add(Requests.valid(run + "-" + i, adapters[i % adapters.length]).build());
            try (RouterApp first = router(run, 1); RouterApp second = router(run, 2)) {
                first.start();
                second.start();
                assertThat(first.placement()).isInstanceOf(LoadAwarePlacement.class);
                AvroSerializer<InferenceRequest> values = new AvroSerializer<>(registry, false);
                for (InferenceRequest r : requests) {
                    producer.send(new ProducerRecord<>(Topics.REQUESTS, r.getRequestId(), values.serialize(Topics.REQUESTS, r)));
                }
                producer.flush();
                List<ConsumerRecord<String, InferenceRequest>> routed = read(run, requests.size());

                FleetTable table = new FleetTable(Duration.ofSeconds(3), Clock.systemUTC());
                beats.forEach(table::update);
                LoadAwarePlacement expected = new LoadAwarePlacement(table, 1.0, new PlacementMetrics(new SimpleMeterRegistry()));
                for (ConsumerRecord<String, InferenceRequest> r : routed) {
                    LoadAwarePlacement.Decision d = expected.decide(r.value().getAdapterId(), PARTITIONS);
                    assertThat(r.partition()).as("%s of %s (%s)", r.value().getRequestId(), r.value().getAdapterId(), d).isEqualTo(d.partition());
                    assertThat(d.workerId()).isNotEqualTo(busy);
                }
                assertThat(expected.decide(cardiology, PARTITIONS).reason()).isEqualTo(LoadAwarePlacement.Reason.DEVICE);
                assertThat(expected.decide(nutrition, PARTITIONS).reason()).isEqualTo(LoadAwarePlacement.Reason.HOST);
                assertThat(routed).filteredOn(r -> r.value().getAdapterId().equals(cardiology)).allSatisfy(r -> assertThat(r.partition()).isEqualTo(2));
                assertThat(routed).filteredOn(r -> r.value().getAdapterId().equals(nutrition)).allSatisfy(r -> assertThat(r.partition()).isEqualTo(3));
                double byFirst = placed(first), bySecond = placed(second);
                assertThat(byFirst + bySecond).isEqualTo(requests.size());
                assertThat(byFirst).as("requests the first instance routed").isPositive();
                assertThat(bySecond).as("requests the second instance routed").isPositive();
                assertThat(first.prometheusText()).contains("lorastream_router_placements_total{reason=\"device\"}");
            }
        } finally {
            beating.shutdownNow();
            beating.awaitTermination(5, TimeUnit.SECONDS);
            try (KafkaProducer<String, byte[]> producer = producer()) {
                for (WorkerStatus s : beats) {
                    s.setState("STOPPING");
                    producer.send(new ProducerRecord<>(Topics.WORKER_STATUS, s.getWorkerId(), statuses.serialize(Topics.WORKER_STATUS, s)));
                }
            }
        }
    }

    private static double placed(RouterApp app) {
        double n = 0;
        for (LoadAwarePlacement.Reason r : LoadAwarePlacement.Reason.values()) {
            var c = app.meters().find("lorastream.router.placements").tag("reason", r.label()).counter();
            if (c != null) n += c.count();
        }
        return n;
    }

    private static KafkaProducer<String, byte[]> producer() {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
    }

    private static List<ConsumerRecord<String, InferenceRequest>> read(String run, int count) {
        AvroDeserializer<InferenceRequest> values = new AvroDeserializer<>(registry, InferenceRequest.class);
        List<ConsumerRecord<String, InferenceRequest>> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.ROUTED).stream().map(p -> new TopicPartition(Topics.ROUTED, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (found.size() < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> raw : consumer.poll(Duration.ofMillis(500))) {
                    InferenceRequest v = values.deserialize(raw.topic(), raw.value());
                    if (v.getRequestId().startsWith(run)) {
                        found.add(new ConsumerRecord<>(raw.topic(), raw.partition(), raw.offset(), raw.key(), v));
                    }
                }
            }
        }
        assertThat(found).as("routed records of this run").hasSize(count);
        return found;
    }
}
