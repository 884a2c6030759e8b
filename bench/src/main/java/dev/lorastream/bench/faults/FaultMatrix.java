package dev.lorastream.bench.faults;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lorastream.ingest.Requests;
import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.ErrorInfo;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.config.KafkaClientSettings;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The fault matrix (issue 11; {@code docs/benchmarks/reliability.md}): the pipeline as separate
 * processes on this machine ({@link Deployment}), Kafka and HTTP callers at a steady rate
 * ({@link Load}), and one fault per scenario. For each: requests sent, answered exactly once, lost
 * (acknowledged, never answered), duplicated (answered or attributed more than once on the topics,
 * or more than one sink row), the longest stall (the longest any caller waited for its answer; also
 * the longest gap without any answer to anyone), and self-healed (nothing but the fault and a supervisor's restart of the killed
 * process touched anything, and every check held). Localhost only, bounded in count and time.
 */
@Command(name = "bench-faults", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the fault matrix against the pipeline as separate processes; write reliability.json and .md."})
public final class FaultMatrix implements Callable<Integer> {
    @Option(names = "--scenarios", split = ",", paramLabel = "NAME[,NAME...]",
            description = "scenarios to run, in order (default: all but soak): ${COMPLETION-CANDIDATES}")
    List<Scenario> scenarios;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "docs/benchmarks", description = "where reliability.json and reliability.md go (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = ".work/faults", description = "processes' data and logs; emptied first (default: ${DEFAULT-VALUE})")
    Path workDir;

    @Option(names = "--base-port", paramLabel = "PORT", defaultValue = "19092", description = "broker port; registry, its management port and HTTP take the next three (default: ${DEFAULT-VALUE})")
    int basePort;

    @Option(names = "--kafka-rate", paramLabel = "PER_S", defaultValue = "6", description = "Kafka callers' requests per second (default: ${DEFAULT-VALUE})")
    double kafkaRate;

    @Option(names = "--http-rate", paramLabel = "PER_S", defaultValue = "2", description = "HTTP callers' requests per second (default: ${DEFAULT-VALUE})")
    double httpRate;

    @Option(names = "--broker-kills", paramLabel = "N", defaultValue = "10", description = "kill -9 cycles of broker-kill9 (default: ${DEFAULT-VALUE})")
    int brokerKills;

    @Option(names = "--outage-s", paramLabel = "S", defaultValue = "60", description = "how long the worker is frozen and the registry down (default: ${DEFAULT-VALUE})")
    int outageSeconds;

    @Option(names = "--after-s", paramLabel = "S", defaultValue = "15", description = "load after each fault before the drain (default: ${DEFAULT-VALUE})")
    int afterSeconds;

    @Option(names = "--soak-minutes", paramLabel = "MIN", defaultValue = "30", description = "how long soak keeps the load on (default: ${DEFAULT-VALUE})")
    double soakMinutes;

    @Option(names = "--soak-warmup-minutes", paramLabel = "MIN", defaultValue = "5", description = "soak's readings before this are warm-up, not held to the bound (default: ${DEFAULT-VALUE})")
    double soakWarmUpMinutes;

    @Option(names = "--sample-s", paramLabel = "S", defaultValue = "30", description = "soak: seconds between memory readings of every process (default: ${DEFAULT-VALUE})")
    int sampleSeconds;

    /** Soak's bound on growth after warm-up, per process: resident set max(64 MiB, 10 %), live heap 32 MiB. */
    static final long RSS_BOUND_MIB = 64;
    static final double RSS_BOUND_FRACTION = 0.10;
    static final long HEAP_BOUND_MIB = 32;

    public enum Scenario {
        baseline, worker_kill9_same_id, worker_kill9_new_id, worker_sigstop, router_kill9, sink_kill9, broker_restart,
        broker_kill9, registry_down, oversized_request, oversized_response, reply_topic_abuse, tenant_spoof, forged_answer,
        /** Not in the default plan: the load for {@code --soak-minutes} with every process's memory sampled. */
        soak
    }

    private Deployment d;
    private SchemaRegistryClient registry;
    private final List<Map<String, Object>> results = new ArrayList<>();
    private final List<String> allIds = new ArrayList<>();
    /** Parts killed for good (replaced by another): not restarted. */
    private final java.util.Set<String> retired = new java.util.HashSet<>();

    public static void main(String[] args) {
        System.exit(new CommandLine(new FaultMatrix()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path root = Path.of(System.getProperty("lorastream.root", ".")).toAbsolutePath().normalize();
        Path work = root.resolve(workDir).toAbsolutePath();
        deleteTree(work);
        List<Scenario> plan = scenarios == null ? java.util.Arrays.stream(Scenario.values()).filter(s -> s != Scenario.soak).toList() : scenarios;
        Instant started = Instant.now();
        try (Deployment deployment = new Deployment(root, work, basePort)) {
            d = deployment;
            // Ctrl-C or a kill of the matrix stops its parts too (they are processes of their own)
            Runtime.getRuntime().addShutdownHook(new Thread(deployment::close, "faults-shutdown"));
            log("starting the deployment (broker, registry, router, 2 workers, sink, http) in " + work);
            d.start();
            registry = new HttpSchemaRegistryClient(d.registryUrl());
            createTopic(SMALL_REPLIES, Map.of("max.message.bytes", "65536"));
            warmUp();
            for (Scenario s : plan) results.add(run(s));
            d.part("sink").terminate(30);
            sinkRows(work.resolve("sink"));
        }
        write(root.resolve(out), started, plan);
        boolean allGood = results.stream().allMatch(r -> Boolean.TRUE.equals(r.get("self_healed")));
        return allGood ? 0 : 1;
    }

    /** Load before the first scenario, not counted: class loading, JIT and the engine's first batches. */
    private void warmUp() throws Exception {
        log("warming up (20 s of load, not counted)");
        try (Load load = new Load("warmup", d)) {
            load.start(kafkaRate, httpRate);
            Thread.sleep(20_000);
            load.stop();
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (load.outstanding() > 0 && System.nanoTime() < deadline) Thread.sleep(500);
        }
    }

    static final String SMALL_REPLIES = Topics.RESPONSES + ".fault-small";

    private Map<String, Object> run(Scenario s) throws Exception {
        String prefix = s.name().replace('_', '-') + "-" + UUID.randomUUID().toString().substring(0, 6);
        log("== " + s + " (" + prefix + ")");
        Map<TopicPartition, Long> responsesFrom = endOffsets(Topics.RESPONSES);
        Map<TopicPartition, Long> attributionFrom = endOffsets(Topics.ATTRIBUTION);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("scenario", s.name());
        List<String> checks = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        long t0 = System.nanoTime();
        try (Load load = new Load(prefix, d)) {
            load.start(kafkaRate, httpRate);
            Thread.sleep(8_000);
            long faultAt = System.nanoTime();
            inject(s, prefix, checks, failed);
            r.put("fault_s", round((System.nanoTime() - faultAt) / 1e9));
            if (s == Scenario.soak) memoryVerdict(r, checks, failed);
            Thread.sleep(afterSeconds * 1000L);
            load.stop();
            long drainDeadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
            while (load.outstanding() > 0 && System.nanoTime() < drainDeadline) Thread.sleep(500);
            Thread.sleep(2_000); // answers a moment late would show up as duplicates below
            List<String> crashed = d.restartCrashed(retired);
            if (!crashed.isEmpty()) failed.add("crashed on their own (restarted by the matrix as a supervisor would): " + crashed);
            Map<String, Integer> responses = countById(Topics.RESPONSES, responsesFrom, InferenceResponse.class, prefix);
            Map<String, Integer> attributions = countById(Topics.ATTRIBUTION, attributionFrom, AttributionEvent.class, prefix);
            int sent = load.kafkaSent.size() + load.httpSent.get();
            int lost = 0, duplicated = 0, once = 0;
            for (String id : load.kafkaSent.keySet()) {
                allIds.add(id);
                int n = responses.getOrDefault(id, 0);
                if (n == 0 || !load.kafkaAnswered.containsKey(id)) lost++;
                if (n > 1 || attributions.getOrDefault(id, 0) > 1) duplicated++;
                if (n == 1 && load.kafkaAnswered.containsKey(id)) once++;
            }
            int httpOther = load.httpOther.values().stream().mapToInt(AtomicInteger::get).sum();
            int httpOpen = load.httpSent.get() - load.httpOk.get() - httpOther;
            lost += httpOpen + load.httpOther.getOrDefault(-1, new AtomicInteger()).get() + load.httpOther.getOrDefault(504, new AtomicInteger()).get();
            once += load.httpOk.get();
            r.put("sent", sent);
            r.put("answered_once", once);
            r.put("lost", lost);
            r.put("duplicated", duplicated);
            r.put("not_accepted", load.kafkaNotSent.get());
            Map<String, Integer> httpCodes = new LinkedHashMap<>();
            load.httpOther.forEach((code, n) -> httpCodes.put(Integer.toString(code), n.get()));
            r.put("http_non_200", httpCodes);
            r.put("longest_stall_s", round(load.waitedNanos.stream().mapToLong(Long::longValue).max().orElse(0) / 1e9));
            r.put("longest_gap_s", round(longestGap(load, t0)));
            r.put("p50_wait_s", round(percentile(load.waitedNanos, 0.50) / 1e9));
            r.put("p99_wait_s", round(percentile(load.waitedNanos, 0.99) / 1e9));
            r.put("broker_down", s == Scenario.broker_kill9 || s == Scenario.broker_restart);
            r.put("stall_goal_met", (Double) r.get("longest_stall_s") <= 15.0 || (Boolean) r.get("broker_down"));
            r.put("checks", checks);
            r.put("failed_checks", failed);
            r.put("self_healed", lost == 0 && duplicated == 0 && failed.isEmpty() && load.outstanding() == 0);
            r.put("seconds", round((System.nanoTime() - t0) / 1e9));
        }
        log("   " + r);
        return r;
    }

    private void inject(Scenario s, String prefix, List<String> checks, List<String> failed) throws Exception {
        switch (s) {
            case baseline -> Thread.sleep(5_000);
            case worker_kill9_same_id -> {
                d.part("worker-1").kill9();
                Thread.sleep(2_000);
                d.part("worker-1").start();
            }
            case worker_kill9_new_id -> {
                d.part("worker-2").kill9();
                retired.add("worker-2");
                d.addWorker("worker-3");
            }
            case worker_sigstop -> {
                d.part("worker-1").freeze();
                Thread.sleep(outageSeconds * 1000L);
                d.part("worker-1").thaw();
            }
            case router_kill9 -> {
                d.part("router").kill9();
                Thread.sleep(2_000);
                d.part("router").start();
            }
            case sink_kill9 -> {
                Thread.sleep(700); // its batches flush every second: most likely inside one
                d.part("sink").kill9();
                Thread.sleep(2_000);
                d.part("sink").start();
            }
            case broker_restart -> {
                d.part("broker").terminate(60);
                d.startPart("broker");
            }
            case broker_kill9 -> {
                for (int i = 0; i < brokerKills; i++) {
                    d.part("broker").kill9();
                    Thread.sleep(3_000);
                    d.startPart("broker");
                    Thread.sleep(5_000);
                }
            }
            case registry_down -> {
                d.part("registry").kill9();
                // the router restarted during the outage has no schema cached: every id it reads is uncached
                d.part("router").terminate(20);
                d.part("router").start();
                Thread.sleep(outageSeconds * 1000L);
                d.startPart("registry");
            }
            case soak -> soak();
            case oversized_request -> oversizedRequest(prefix, checks, failed);
            case oversized_response -> oversizedResponse(prefix, checks, failed);
            case reply_topic_abuse -> replyTopicAbuse(prefix, checks, failed);
            case tenant_spoof -> tenantSpoof(checks, failed);
            case forged_answer -> forgedAnswer(prefix, checks, failed);
        }
    }

    private MemorySampler memory;

    /** The load stays on for {@code --soak-minutes}; every {@code --sample-s} each process's memory is read. */
    private void soak() throws InterruptedException {
        memory = new MemorySampler();
        long start = System.nanoTime();
        long end = start + (long) (soakMinutes * 60e9);
        int readings = 0;
        while (System.nanoTime() < end) {
            double at = (System.nanoTime() - start) / 1e9;
            memory.sample(at, d.parts(), readings % MemorySampler.HEAP_EVERY == 0);
            if (readings++ % 10 == 0) log("   soak " + Math.round(at) + " s: " + lastReadings());
            Thread.sleep(Math.max(0, Math.min(sampleSeconds * 1000L, (end - System.nanoTime()) / 1_000_000)));
        }
        memory.sample((System.nanoTime() - start) / 1e9, d.parts(), true);
    }

    private String lastReadings() {
        StringBuilder b = new StringBuilder();
        memory.samples().forEach((part, list) -> {
            MemorySampler.Sample x = list.get(list.size() - 1);
            b.append(part).append(' ').append(x.rssKiB() / 1024).append('/').append(x.liveHeapKiB() < 0 ? "-" : x.liveHeapKiB() / 1024).append(" MiB  ");
        });
        return b.append("(resident/live heap)").toString();
    }

    private void memoryVerdict(Map<String, Object> r, List<String> checks, List<String> failed) {
        Map<String, Map<String, Object>> growth = memory.growth(soakWarmUpMinutes * 60, RSS_BOUND_MIB, RSS_BOUND_FRACTION, HEAP_BOUND_MIB);
        r.put("soak_minutes", soakMinutes);
        r.put("warmup_minutes", soakWarmUpMinutes);
        r.put("memory_bound", "after warm-up, per process: resident set grows <= max(" + RSS_BOUND_MIB + " MiB, "
                + Math.round(RSS_BOUND_FRACTION * 100) + " %), live heap after full GC <= " + HEAP_BOUND_MIB + " MiB");
        r.put("memory", growth);
        Map<String, List<List<Object>>> samples = new LinkedHashMap<>();
        memory.samples().forEach((part, list) -> samples.put(part, list.stream().map(x -> java.util.Arrays.<Object>asList(round(x.atSeconds()),
                x.rssKiB() / 1024, x.liveHeapKiB() < 0 ? null : x.liveHeapKiB() / 1024)).toList()));
        r.put("memory_samples_s_rss_mib_live_heap_mib", samples);
        growth.forEach((part, g) -> check(Boolean.TRUE.equals(g.get("within_bound")),
                "memory of " + part + " after warm-up: " + g, checks, failed));
    }

    private void oversizedRequest(String prefix, List<String> checks, List<String> failed) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String body = "{\"model\":\"dermatology\",\"prompt\":\"" + "a".repeat(1_048_274 - 50) + "\",\"max_tokens\":4}";
        int code = http.send(HttpRequest.newBuilder(URI.create(d.httpUrl() + "/v1/completions")).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + d.apiKey).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
        check(code == 413, "HTTP POST of 1,048,274 bytes answered 413 (got " + code + ")", checks, failed);
        InferenceRequest big = Requests.base(Deployment.TENANT, "dermatology", 4).setRequestId(prefix + "-big")
                .setPrompt("x".repeat(700_000)).setReplyTopic(Topics.RESPONSES).build();
        Map<TopicPartition, Long> from = endOffsets(Topics.RESPONSES);
        produce(Topics.REQUESTS, big.getRequestId(), big, 2 << 20);
        InferenceResponse answer = awaitResponse(Topics.RESPONSES, from, big.getRequestId(), Duration.ofSeconds(60));
        check(answer != null && errorCode(answer).equals("TOO_LARGE"),
                "a 700 KB request on inference.requests answered TOO_LARGE (got " + describe(answer) + ")", checks, failed);
    }

    private void oversizedResponse(String prefix, List<String> checks, List<String> failed) throws Exception {
        StringBuilder blob = new StringBuilder();
        while (blob.length() < 200_000) blob.append(UUID.randomUUID());
        InferenceRequest r = Requests.base(Deployment.TENANT, "cardiology", 4).setRequestId(prefix + "-bigreply")
                .setPrompt("a question with much metadata").setReplyTopic(SMALL_REPLIES).setAttributes(Map.of("blob", blob.toString())).build();
        Map<TopicPartition, Long> from = endOffsets(SMALL_REPLIES);
        produce(Topics.REQUESTS, r.getRequestId(), r, 1 << 20);
        InferenceResponse answer = awaitResponse(SMALL_REPLIES, from, r.getRequestId(), Duration.ofSeconds(60));
        check(answer != null && errorCode(answer).equals("TOO_LARGE"),
                "a response too large for its reply topic answered TOO_LARGE there (got " + describe(answer) + ")", checks, failed);
    }

    private void replyTopicAbuse(String prefix, List<String> checks, List<String> failed) throws Exception {
        Map<TopicPartition, Long> from = endOffsets(Topics.RESPONSES);
        Map<TopicPartition, Long> attributionFrom = endOffsets(Topics.ATTRIBUTION);
        List<String> ids = new ArrayList<>();
        for (String target : List.of(Topics.REQUESTS, Topics.ROUTED)) {
            for (String reply : List.of(Topics.ATTRIBUTION, Topics.REQUESTS, "__consumer_offsets")) {
                String id = prefix + "-abuse-" + ids.size();
                ids.add(id);
                InferenceRequest r = Requests.base(Deployment.TENANT, "nutrition", 4).setRequestId(id).setPrompt("where does this go")
                        .setReplyTopic(reply).build();
                produce(target, target.equals(Topics.ROUTED) ? "nutrition" : id, r, 1 << 20);
            }
        }
        for (String id : ids) {
            InferenceResponse answer = awaitResponse(Topics.RESPONSES, from, id, Duration.ofSeconds(60));
            check(answer != null && answer.getStatus() == ResponseStatus.ERROR || answer != null && answer.getStatus() == ResponseStatus.OK,
                    id + " answered on inference.responses, not on its reply_topic (got " + describe(answer) + ")", checks, failed);
        }
        Map<String, Integer> billed = countById(Topics.ATTRIBUTION, attributionFrom, AttributionEvent.class, prefix + "-abuse");
        check(billed.values().stream().allMatch(n -> n <= 1), "no abused request billed twice: " + billed, checks, failed);
        // nothing of these reached the topics named as reply_topic: attribution.events carries attribution events only
        Map<String, Integer> onAttribution = countRaw(Topics.ATTRIBUTION, attributionFrom, prefix + "-abuse");
        check(onAttribution.isEmpty() || billed.keySet().containsAll(onAttribution.keySet()),
                "no response written to attribution.events", checks, failed);
    }

    private void tenantSpoof(List<String> checks, List<String> failed) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String body = "{\"model\":\"dermatology\",\"prompt\":\"bill someone else\",\"max_tokens\":2}";
        int noKey = post(http, body, null, null);
        int badKey = post(http, body, "lsk-not-a-key", null);
        int otherTenant = post(http, body, d.apiKey, "victim");
        check(noKey == 401, "no key: 401 (got " + noKey + ")", checks, failed);
        check(badKey == 401, "unknown key: 401 (got " + badKey + ")", checks, failed);
        check(otherTenant == 403, "a key of acme with X-Tenant: victim: 403 (got " + otherTenant + ")", checks, failed);
    }

    /**
     * A Kafka client of another caller ({@value Deployment#ATTACKER}, authenticated, with the ACLs every caller gets)
     * tries what the attacker did: read the victim's request off inference.requests and write a forged answer on
     * inference.responses (and a billing row on attribution.events). The broker refuses each; the victim gets the
     * worker's answer.
     */
    private void forgedAnswer(String prefix, List<String> checks, List<String> failed) throws Exception {
        String id = prefix + "-victim";
        InferenceResponse forged = InferenceResponse.newBuilder().setRequestId(id).setTenant(Deployment.TENANT).setAdapterId("dermatology")
                .setStatus(ResponseStatus.OK).setText("FORGED BY ATTACKER").setWorkerId("attacker").setCompletedAtMs(Instant.now())
                .setFinishReason("stop").build();
        Map<String, Object> attacker = new HashMap<>(d.security.clientSettings(Deployment.ATTACKER));
        attacker.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, d.bootstrap());
        attacker.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        attacker.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000);
        attacker.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        try (Load victim = new Load(prefix + "-v", d)) {
            InferenceRequest r = Requests.base(Deployment.TENANT, "dermatology", 4).setRequestId(id).setPrompt("my private question").build();
            var answer = victim.client().submit(r, Duration.ofSeconds(60));
            Map<String, Object> reader = new HashMap<>(attacker);
            reader.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            try (KafkaConsumer<byte[], byte[]> spy = new KafkaConsumer<>(reader, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                spy.assign(List.of(new TopicPartition(Topics.REQUESTS, 0)));
                String outcome = "read records";
                try {
                    for (int i = 0; i < 25; i++) spy.poll(Duration.ofMillis(200));
                } catch (org.apache.kafka.common.errors.TopicAuthorizationException e) {
                    outcome = "refused: " + e.getMessage();
                }
                check(outcome.startsWith("refused"), "another caller reading inference.requests is " + outcome, checks, failed);
            }
            try (KafkaProducer<String, SpecificRecord> producer = new KafkaProducer<>(attacker, new StringSerializer(), new AvroSerializer<>(registry, false))) {
                for (String topic : List.of(Topics.RESPONSES, Topics.ATTRIBUTION)) {
                    String outcome;
                    try {
                        producer.send(new ProducerRecord<>(topic, id, forged)).get(30, java.util.concurrent.TimeUnit.SECONDS);
                        outcome = "written";
                    } catch (java.util.concurrent.ExecutionException e) {
                        outcome = e.getCause() instanceof org.apache.kafka.common.errors.TopicAuthorizationException ? "refused by the broker" : "failed: " + e.getCause();
                    }
                    check(outcome.equals("refused by the broker"), "another caller writing a forged record on " + topic + ": " + outcome, checks, failed);
                }
            }
            InferenceResponse got = answer.get();
            check(!"FORGED BY ATTACKER".equals(got.getText()) && got.getStatus() == ResponseStatus.OK,
                    "the victim gets the worker's answer (worker " + got.getWorkerId() + ")", checks, failed);
        } catch (Exception e) {
            check(false, "forged answer scenario failed to run: " + e, checks, failed);
        }
    }

    private int post(HttpClient http, String body, String key, String tenantHeader) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(d.httpUrl() + "/v1/completions")).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        if (key != null) b.header("Authorization", "Bearer " + key);
        if (tenantHeader != null) b.header("X-Tenant", tenantHeader);
        return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static void check(boolean ok, String what, List<String> checks, List<String> failed) {
        (ok ? checks : failed).add(what);
        log("   " + (ok ? "ok   " : "FAIL ") + what);
    }

    private static String errorCode(InferenceResponse r) {
        ErrorInfo e = r.getError();
        return e == null ? "OK" : e.getCode();
    }

    private static String describe(InferenceResponse r) {
        return r == null ? "no answer" : r.getStatus() + (r.getError() == null ? "" : " " + r.getError().getCode() + " " + r.getError().getField());
    }

    private static double percentile(java.util.Collection<Long> values, double q) {
        List<Long> v = new ArrayList<>(values);
        if (v.isEmpty()) return 0;
        v.sort(Long::compare);
        return v.get(Math.min(v.size() - 1, (int) Math.ceil(q * v.size()) - 1));
    }

    /** Longest time without any answer to anyone, from the start of the load to the last answer. */
    private static double longestGap(Load load, long t0) {
        List<Long> at = new ArrayList<>(load.answersAtNanos);
        at.sort(Long::compare);
        long prev = t0, worst = 0;
        for (long t : at) {
            worst = Math.max(worst, t - prev);
            prev = t;
        }
        return worst / 1e9;
    }

    private void produce(String topic, String key, SpecificRecord value, int maxRequestSize) throws Exception {
        Map<String, Object> p = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, d.bootstrap(), ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxRequestSize);
        try (KafkaProducer<String, SpecificRecord> producer = new KafkaProducer<>(KafkaClientSettings.with(p), new StringSerializer(), new AvroSerializer<>(registry, false))) {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        }
    }

    private void createTopic(String name, Map<String, String> configs) throws Exception {
        try (Admin admin = Admin.create(KafkaClientSettings.with(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, d.bootstrap())))) {
            if (admin.listTopics().names().get().contains(name)) return;
            admin.createTopics(List.of(new NewTopic(name, 1, (short) 1).configs(configs))).all().get();
        }
    }

    private InferenceResponse awaitResponse(String topic, Map<TopicPartition, Long> from, String id, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        AvroDeserializer<InferenceResponse> values = new AvroDeserializer<>(registry, InferenceResponse.class);
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> rec : read(topic, from)) {
                try {
                    InferenceResponse r = values.deserialize(topic, rec.value());
                    if (id.equals(r.getRequestId())) return r;
                } catch (RuntimeException e) {
                    // another record type: not ours
                }
            }
            Thread.sleep(500);
        }
        return null;
    }

    private <T extends SpecificRecord> Map<String, Integer> countById(String topic, Map<TopicPartition, Long> from, Class<T> type, String prefix) {
        AvroDeserializer<T> values = new AvroDeserializer<>(registry, type);
        Map<String, Integer> counts = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> rec : read(topic, from)) {
            T v;
            try {
                v = values.deserialize(topic, rec.value());
            } catch (RuntimeException e) {
                continue;
            }
            String id = v instanceof InferenceResponse r ? r.getRequestId() : ((AttributionEvent) v).getRequestId();
            if (id != null && id.startsWith(prefix)) counts.merge(id, 1, Integer::sum);
        }
        return counts;
    }

    /** Records on a topic whose key starts with {@code prefix}, by key, whatever their type. */
    private Map<String, Integer> countRaw(String topic, Map<TopicPartition, Long> from, String prefix) {
        Map<String, Integer> counts = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> rec : read(topic, from)) {
            String key = rec.key() == null ? "" : new String(rec.key(), StandardCharsets.UTF_8);
            if (key.startsWith(prefix)) counts.merge(key, 1, Integer::sum);
        }
        return counts;
    }

    private List<ConsumerRecord<byte[], byte[]>> read(String topic, Map<TopicPartition, Long> from) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = consumer()) {
            List<TopicPartition> tps = partitions(c, topic);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            c.assign(tps);
            for (TopicPartition tp : tps) c.seek(tp, from.getOrDefault(tp, 0L));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) out.add(r);
                }
            }
        }
        return out;
    }

    private Map<TopicPartition, Long> endOffsets(String topic) {
        try (KafkaConsumer<byte[], byte[]> c = consumer()) {
            return c.endOffsets(partitions(c, topic));
        }
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        return new KafkaConsumer<>(KafkaClientSettings.with(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, d.bootstrap(), ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false, ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 << 20)),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String topic) {
        List<TopicPartition> tps = new ArrayList<>();
        for (PartitionInfo info : c.partitionsFor(topic)) tps.add(new TopicPartition(topic, info.partition()));
        return tps;
    }

    /** After the sink stopped: its DuckDB rows per request id of every scenario (duplicates and missing rows). */
    private void sinkRows(Path sinkDir) {
        Map<String, Integer> rows = new HashMap<>();
        java.util.Properties readOnly = new java.util.Properties();
        readOnly.setProperty("duckdb.read_only", "true");
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + sinkDir.resolve("attribution.duckdb"), readOnly);
             ResultSet rs = c.createStatement().executeQuery("SELECT request_id, count(*) FROM attribution GROUP BY request_id")) {
            while (rs.next()) rows.put(rs.getString(1), rs.getInt(2));
        } catch (Exception e) {
            log("cannot read the sink's DuckDB file: " + e);
            for (Map<String, Object> r : results) r.put("sink_rows", "unreadable: " + e.getMessage());
            return;
        }
        for (Map<String, Object> r : results) {
            String scenario = ((String) r.get("scenario")).replace('_', '-');
            long dup = rows.entrySet().stream().filter(e -> e.getKey().startsWith(scenario + "-") && e.getValue() > 1).count();
            long have = rows.keySet().stream().filter(k -> k.startsWith(scenario + "-")).count();
            r.put("sink_rows", have);
            r.put("sink_duplicated_rows", dup);
            if (dup > 0) {
                r.put("duplicated", ((Integer) r.get("duplicated")) + (int) dup);
                r.put("self_healed", false);
            }
        }
    }

    private void write(Path dir, Instant started, List<Scenario> plan) throws Exception {
        Files.createDirectories(dir);
        String name = plan.equals(List.of(Scenario.soak)) ? "soak" : "reliability";
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("generated", Instant.now().toString());
        doc.put("started", started.toString());
        doc.put("command", "./pipeline bench-faults" + (scenarios == null ? "" : " --scenarios " + String.join(",", plan.stream().map(Enum::name).toList()))
                + (plan.contains(Scenario.soak) ? " --soak-minutes " + soakMinutes : ""));
        doc.put("machine", Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name"));
        doc.put("load", Map.of("kafka_per_s", kafkaRate, "http_per_s", httpRate, "max_tokens", 6, "engine", "onnx cpu, demo model"));
        doc.put("goals", Map.of("lost", 0, "duplicated", 0, "self_healed", true, "longest_stall_s", "<= 15 unless the broker is down"));
        doc.put("scenarios", results);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve(name + ".json").toFile(), doc);
        StringBuilder md = new StringBuilder();
        md.append("| scenario | sent | answered once | lost | duplicated | longest stall s | p99 wait s | longest gap s | sink rows dup | self-healed | failed checks |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
        for (Map<String, Object> r : results) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s%s | %s | %s | %s | %s | %s |%n", r.get("scenario"), r.get("sent"),
                    r.get("answered_once"), r.get("lost"), r.get("duplicated"), r.get("longest_stall_s"),
                    Boolean.TRUE.equals(r.get("broker_down")) ? " (broker down)" : "", r.get("p99_wait_s"), r.get("longest_gap_s"),
                    r.getOrDefault("sink_duplicated_rows", "?"), r.get("self_healed"), String.join("; ", castList(r.get("failed_checks")))));
        }
        Files.writeString(dir.resolve(name + "-table.md"), md.toString());
        System.out.println(md);
    }

    @SuppressWarnings("unchecked")
    private static List<String> castList(Object o) { return (List<String>) o; }

    private static double round(double v) { return Math.round(v * 10) / 10.0; }

    private static void log(String line) { System.out.println(Instant.now().toString().substring(11, 19) + " " + line); }

    private static void deleteTree(Path p) throws Exception {
        if (!Files.exists(p)) return;
        try (var walk = Files.walk(p)) {
            for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
        }
    }
}
