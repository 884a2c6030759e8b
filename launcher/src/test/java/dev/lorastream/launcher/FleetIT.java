package dev.lorastream.launcher;

import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.demo.DemoModels;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.Requests;
import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.router.RouterApp;
import dev.lorastream.router.placement.LoadAwarePlacement;
import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.Worker;
import dev.lorastream.worker.WorkerConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three real CPU workers in one consumer group over six routed partitions behind the load-aware
 * router, on the real broker and registry; midway one worker stops and another joins. Every
 * request is answered and attributed exactly once, the new worker serves, and the router's table
 * follows the group's new assignment.
 */
class FleetIT {
    private static final int PARTITIONS = 6;
    private static final List<String> ADAPTERS = Arrays.asList("dermatology", "cardiology", "nutrition", null);
    @TempDir
    Path work;

    @Test
    void aRebalanceMidRunLosesAndRepeatsNothingAndPlacementFollowsTheNewAssignment() throws Exception {
        KafkaPlatform platform = TestPlatform.shared();
        String bootstrap = platform.bootstrapServers();
        TopicSetup.ensure(bootstrap, PARTITIONS, (short) 1);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            int have = admin.describeTopics(List.of(Topics.ROUTED)).allTopicNames().get().get(Topics.ROUTED).partitions().size();
            if (have < PARTITIONS) admin.createPartitions(Map.of(Topics.ROUTED, NewPartitions.increaseTo(PARTITIONS))).all().get();
        }
        String run = UUID.randomUUID().toString().substring(0, 8), group = "fleet-it-" + run;
        Connection c = new Connection(bootstrap, platform.schemaRegistryUrl());
        DemoModels.Paths demo = DemoModels.write(work.resolve("models"));
        var registry = new HttpSchemaRegistryClient(platform.schemaRegistryUrl());
        var responsesFrom = TopicReader.endOffsets(bootstrap, Topics.RESPONSES);
        var attributionFrom = TopicReader.endOffsets(bootstrap, Topics.ATTRIBUTION);

        Map<String, Worker> workers = new TreeMap<>();
        List<AutoCloseable> engines = new ArrayList<>();
        try (RouterApp router = Components.router(c, work.resolve("router")); InferenceClient client = Components.client(c)) {
            router.start();
            assertThat(router.placement()).isInstanceOf(LoadAwarePlacement.class);
            for (int i = 1; i <= 3; i++) start(workers, engines, c, demo, group, run, i);
            awaitFleet(router, workers.keySet(), group, bootstrap);

            List<InferenceRequest> first = requests(run + "-a", 24), second = requests(run + "-b", 24);
            List<CompletableFuture<InferenceResponse>> pending = new ArrayList<>(first.stream().map(client::submit).toList());
            for (int i = 0; i < 8; i++) pending.get(i).get(120, TimeUnit.SECONDS);
            String stopped = "fleet-" + run + "-1";
            workers.remove(stopped).close(); // leaves the group, with requests in flight: its partitions move to the others
            // the newcomer: the first worker id that leads the backbone's rendezvous order among the survivors, so that
            // once it is idle in the router's table backbone requests (least loaded, ties in that order) must go to it
            int k = 4;
            while (!leadsBackbone("fleet-" + run + "-" + k, workers.keySet())) k++;
            String newcomer = "fleet-" + run + "-" + k;
            start(workers, engines, c, demo, group, run, k);
            awaitFleet(router, workers.keySet(), group, bootstrap);
            for (int i = 8; i < first.size(); i++) pending.get(i).get(120, TimeUnit.SECONDS);
            awaitIdle(router, newcomer);
            pending.addAll(second.stream().map(client::submit).toList());

            List<InferenceRequest> all = new ArrayList<>(first);
            all.addAll(second);
            Map<String, String> servedBy = new HashMap<>();
            for (int i = 0; i < all.size(); i++) {
                InferenceResponse r = pending.get(i).get(180, TimeUnit.SECONDS);
                assertThat(r.getStatus()).as("%s: %s", all.get(i).getRequestId(), r.getError()).isEqualTo(ResponseStatus.OK);
                servedBy.put(r.getRequestId(), r.getWorkerId());
            }
            Set<String> ids = all.stream().map(InferenceRequest::getRequestId).collect(Collectors.toSet());
            List<ConsumerRecord<String, InferenceResponse>> responses = TopicReader.read(bootstrap, responsesFrom,
                    new AvroDeserializer<>(registry, InferenceResponse.class), got -> count(got, ids) >= ids.size(), Duration.ofSeconds(30));
            List<ConsumerRecord<String, AttributionEvent>> events = TopicReader.read(bootstrap, attributionFrom,
                    new AvroDeserializer<>(registry, AttributionEvent.class),
                    got -> got.stream().filter(e -> ids.contains(e.value().getRequestId())).count() >= ids.size(), Duration.ofSeconds(30));
            assertThat(perId(responses.stream().map(r -> r.value().getRequestId()).toList(), ids)).as("responses per request").hasSize(ids.size())
                    .allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
            assertThat(perId(events.stream().map(e -> e.value().getRequestId()).toList(), ids)).as("attributions per request").hasSize(ids.size())
                    .allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
            assertThat(second).extracting(r -> servedBy.get(r.getRequestId())).as("the second half, sent after the rebalance")
                    .doesNotContain(stopped).contains(newcomer);
        } finally {
            for (Worker w : workers.values()) w.close();
            for (AutoCloseable e : engines) e.close();
        }
    }

    private static List<InferenceRequest> requests(String prefix, int n) {
        List<InferenceRequest> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            InferenceRequest r = Requests.text("tenant-" + i % 3, ADAPTERS.get(i % ADAPTERS.size()), "fleet request " + i, 4);
            r.setRequestId(prefix + "-" + i);
            out.add(r);
        }
        return out;
    }

    private static void start(Map<String, Worker> workers, List<AutoCloseable> engines, Connection c, DemoModels.Paths demo, String group,
                              String run, int i) {
        String id = "fleet-" + run + "-" + i;
        WorkerConfig config = WorkerConfig.from(Map.of(
                WorkerConfig.BOOTSTRAP_SERVERS.name(), c.bootstrapServers(),
                WorkerConfig.SCHEMA_REGISTRY_URL.name(), c.schemaRegistryUrl(),
                WorkerConfig.MODEL_DIR.name(), demo.backbone().toString(),
                WorkerConfig.ADAPTER_DIR.name(), demo.adapters().toString(),
                WorkerConfig.GROUP_ID.name(), group,
                WorkerConfig.WORKER_ID.name(), id,
                WorkerConfig.MAX_BATCH_SIZE.name(), "2"));
        InferenceEngine engine = Components.engine(config);
        engines.add(engine);
        Worker w = new Worker(config, engine);
        w.start();
        workers.put(id, w);
    }

    private static boolean leadsBackbone(String candidate, Set<String> others) {
        List<String> ids = new ArrayList<>(others);
        ids.add(candidate);
        ids.sort(LoadAwarePlacement.rendezvousOrder(Topics.BASE_MODEL_KEY));
        return ids.getFirst().equals(candidate);
    }

    /** Until the router's table shows the worker with nothing running or waiting. */
    private static void awaitIdle(RouterApp router, String workerId) throws Exception {
        LoadAwarePlacement placement = (LoadAwarePlacement) router.placement();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            var w = placement.fleet().workers().stream().filter(v -> v.workerId().equals(workerId)).findFirst();
            if (w.isPresent() && w.get().running() + w.get().waiting() == 0) return;
            Thread.sleep(100);
        }
        throw new AssertionError(workerId + " never reported idle: " + placement.fleet().workers());
    }

    /** Until the router's table holds exactly these workers, with the partitions the group assigned them, covering every partition. */
    private static void awaitFleet(RouterApp router, Set<String> ids, String group, String bootstrap) throws Exception {
        LoadAwarePlacement placement = (LoadAwarePlacement) router.placement();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        Map<String, Set<Integer>> table = Map.of(), assigned = Map.of();
        while (System.nanoTime() < deadline) {
            table = new TreeMap<>();
            for (var w : placement.fleet().workers()) table.put(w.workerId(), new TreeSet<>(w.partitions()));
            assigned = assignment(group, bootstrap);
            boolean covered = table.values().stream().mapToInt(Set::size).sum() == PARTITIONS;
            if (table.keySet().equals(ids) && table.equals(assigned) && covered) return;
            Thread.sleep(200);
        }
        assertThat(table).as("the router's table (group assignment %s)", assigned).containsOnlyKeys(ids).isEqualTo(assigned);
    }

    private static Map<String, Set<Integer>> assignment(String group, String bootstrap) throws Exception {
        Map<String, Set<Integer>> out = new TreeMap<>();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
            for (MemberDescription m : d.members()) {
                Set<Integer> parts = new TreeSet<>();
                for (TopicPartition tp : m.assignment().topicPartitions()) if (tp.topic().equals(Topics.ROUTED)) parts.add(tp.partition());
                String worker = m.clientId().replaceFirst("-requests$", "");
                if (!parts.isEmpty()) out.put(worker, parts);
            }
        }
        return out;
    }

    private static long count(List<ConsumerRecord<String, InferenceResponse>> got, Set<String> ids) {
        return got.stream().filter(r -> ids.contains(r.value().getRequestId())).count();
    }

    private static Map<String, Integer> perId(List<String> seen, Set<String> ids) {
        Map<String, Integer> m = new HashMap<>();
        for (String id : seen) if (ids.contains(id)) m.merge(id, 1, Integer::sum);
        return m;
    }
}
