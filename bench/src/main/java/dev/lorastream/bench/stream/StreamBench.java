package dev.lorastream.bench.stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lorastream.engine.demo.DemoModels;
import dev.lorastream.ingest.ClientConfig;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.Requests;
import dev.lorastream.platform.EmbeddedPlatform;
import dev.lorastream.router.RouterApp;
import dev.lorastream.router.RouterConfig;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.TokenChunk;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.topic.AssignedReader;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.EngineFactory;
import dev.lorastream.worker.Worker;
import dev.lorastream.worker.WorkerConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * What streaming through Kafka adds to the time to the first token, on this machine: the embedded
 * broker and registry, the real router, one real worker on the demo model (CPU), and the client
 * library's {@link InferenceClient#stream}. Per request, 1 or more in flight:
 * <ul>
 *   <li>client TTFT: from just before the send to the first piece of text at the client;</li>
 *   <li>engine TTFT: the engine's own prefill time for the request ({@code timings.prefill_ms}; the
 *       engine is otherwise idle at 1 in flight);</li>
 *   <li>overhead = client TTFT − engine TTFT (the goal: ≤ 15 ms p50), split into the request path
 *       (send → the worker's first chunk, minus the prefill) and the stream hop (the first chunk's
 *       {@code created_at_ms} → the client);</li>
 *   <li>per chunk: tokens, and its latency from creation to an independent reader of inference.stream.</li>
 * </ul>
 * Kafka timestamps are milliseconds, so the split has ±1 ms granularity; client times are nanoTime.
 */
@Command(name = "bench-stream", mixinStandardHelpOptions = true,
        description = "Time to the first streamed token through Kafka minus the engine's own (docs/benchmarks/streaming.md).")
public final class StreamBench implements Callable<Integer> {
    @Option(names = "--requests", defaultValue = "200", description = "requests per concurrency level (default ${DEFAULT-VALUE})") int requests;
    @Option(names = "--concurrency", defaultValue = "1,8", split = ",", description = "requests in flight, one run each (default ${DEFAULT-VALUE})") int[] concurrency;
    @Option(names = "--new-tokens", defaultValue = "16", description = "tokens per request (default ${DEFAULT-VALUE})") int newTokens;
    @Option(names = "--warmup", defaultValue = "20", description = "requests before each measured run (default ${DEFAULT-VALUE})") int warmup;
    @Option(names = "--warmup-s", defaultValue = "60", description = "seconds of requests at the highest concurrency before the first "
            + "measured run, so that the JIT has compiled the broker's, router's, worker's and client's paths (a fresh JVM's first seconds "
            + "are several times slower; default ${DEFAULT-VALUE})") int warmupSeconds;
    @Option(names = "--router-setting", description = "a router setting KEY=VALUE (e.g. streams.producer.linger.ms=0), repeatable") Map<String, String> routerExtra = new LinkedHashMap<>();
    @Option(names = "--out", defaultValue = "bench/results/stream-1", description = "where stream.json goes (default ${DEFAULT-VALUE})") Path out;
    @Option(names = "--work", description = "working folder (default: a temporary one)") Path work;
    @Option(names = "--router-commit-ms", description = "the router's Kafka Streams commit.interval.ms (default: the router's own)") Long routerCommitMs;

    public static void main(String[] args) {
        System.exit(new CommandLine(new StreamBench()).execute(args));
    }

    private record Sample(String id, long sentNanos, long sentEpochMs, long firstNanos, long firstEpochMs, InferenceResponse response) {}

    @Override
    public Integer call() throws Exception {
        if (work == null) work = Files.createTempDirectory("lorastream-stream");
        Files.createDirectories(out);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("what", "time to the first streamed token through Kafka (embedded broker and registry, real router, one CPU worker on the "
                + "demo model, the client library) minus the engine's own prefill; this machine: " + Runtime.getRuntime().availableProcessors() + " cores");
        report.put("command", "bench-stream --requests " + requests + " --concurrency " + String.join(",", Arrays.stream(concurrency).mapToObj(String::valueOf).toList())
                + " --new-tokens " + newTokens + " --warmup " + warmup + " --warmup-s " + warmupSeconds
                + (routerCommitMs == null ? "" : " --router-commit-ms " + routerCommitMs)
                + routerExtra.entrySet().stream().map(e -> " --router-setting " + e.getKey() + "=" + e.getValue()).reduce("", String::concat));
        report.put("router_settings", routerExtra);
        report.put("router_commit_interval_ms", routerCommitMs == null ? "the router's default" : routerCommitMs);
        try (EmbeddedPlatform platform = EmbeddedPlatform.start(work.resolve("platform"))) {
            String bootstrap = platform.bootstrapServers();
            TopicSetup.ensure(bootstrap, 4, (short) 1);
            HttpSchemaRegistryClient registry = new HttpSchemaRegistryClient(platform.schemaRegistryUrl());
            Topics.declareSubjects(registry);
            DemoModels.Paths demo = DemoModels.write(work.resolve("models"));
            WorkerConfig config = WorkerConfig.from(Map.of(
                    WorkerConfig.BOOTSTRAP_SERVERS.name(), bootstrap, WorkerConfig.SCHEMA_REGISTRY_URL.name(), platform.schemaRegistryUrl(),
                    WorkerConfig.MODEL_DIR.name(), demo.backbone().toString(), WorkerConfig.ADAPTER_DIR.name(), demo.adapters().toString(),
                    WorkerConfig.WORKER_ID.name(), "stream-bench-worker"));
            ChunkClock chunks = new ChunkClock(bootstrap, registry);
            RoutedClock sentByRouter = new RoutedClock(bootstrap, registry, "read_uncommitted");
            RoutedClock visible = new RoutedClock(bootstrap, registry, "read_committed");
            try (var engine = EngineFactory.open(config);
                 RouterApp router = new RouterApp(new RouterConfig(routerSettings(bootstrap, platform.schemaRegistryUrl())), registry);
                 Worker worker = new Worker(config, engine);
                 InferenceClient client = new InferenceClient(ClientConfig.from(Map.of(ClientConfig.BOOTSTRAP_SERVERS, bootstrap,
                         ClientConfig.SCHEMA_REGISTRY_URL, platform.schemaRegistryUrl())));
                 chunks; sentByRouter; visible) {
                router.start();
                worker.start();
                List<Map<String, Object>> runs = new ArrayList<>();
                report.put("warmup", warmUp(client, Arrays.stream(concurrency).max().orElse(1)));
                for (int c : concurrency) {
                    run(client, c, warmup, "warm");
                    List<Sample> samples = run(client, c, requests, "c" + c);
                    runs.add(summarise(c, samples, chunks, sentByRouter, visible));
                    System.out.printf(Locale.ROOT, "stream: %d in flight: overhead p50 %.1f ms p99 %.1f ms (client TTFT p50 %.1f ms, engine prefill p50 %.1f ms)%n",
                            c, (double) runs.getLast().get("overhead_p50_ms"), (double) runs.getLast().get("overhead_p99_ms"),
                            (double) runs.getLast().get("client_ttft_p50_ms"), (double) runs.getLast().get("engine_ttft_p50_ms"));
                }
                report.put("runs", runs);
                report.put("router_kafka_metrics", routerMetrics());
                Map<String, Object> one = runs.getFirst();
                report.put("overhead_p50_ms_at_" + concurrency[0], one.get("overhead_p50_ms"));
                report.put("goal", "overhead p50 <= 15 ms");
            }
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        json.writeValue(out.resolve("stream.json").toFile(), report);
        System.out.println("stream: wrote " + out.resolve("stream.json"));
        return 0;
    }

    /** The router's Kafka Streams thread and producer timings (JMX, this JVM): where its commits spend their time. */
    private static Map<String, Object> routerMetrics() throws Exception {
        javax.management.MBeanServer server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        Map<String, Object> m = new java.util.TreeMap<>();
        for (String pattern : List.of("kafka.streams:type=stream-thread-metrics,*", "kafka.producer:type=producer-metrics,*")) {
            for (javax.management.ObjectName name : server.queryNames(new javax.management.ObjectName(pattern), null)) {
                String client = name.getKeyProperty(name.getKeyProperty("thread-id") != null ? "thread-id" : "client-id");
                if (!client.contains("router")) continue;
                for (javax.management.MBeanAttributeInfo a : server.getMBeanInfo(name).getAttributes()) {
                    String n = a.getName();
                    if (!(n.startsWith("commit-") || n.startsWith("poll-") || n.startsWith("process-") || n.startsWith("txn-")
                            || n.startsWith("flush-") || n.equals("request-latency-avg") || n.equals("record-queue-time-avg"))) continue;
                    Object v = server.getAttribute(name, n);
                    if (v instanceof Double d && (d.isNaN() || d.isInfinite())) continue;
                    m.put(client.replaceAll(".*-(StreamThread-\\d+.*)", "$1") + " " + n, v);
                }
            }
        }
        return m;
    }

    private Map<String, Object> routerSettings(String bootstrap, String registryUrl) {
        Map<String, Object> m = new java.util.HashMap<>(Map.of(RouterConfig.BOOTSTRAP_SERVERS, bootstrap, RouterConfig.SCHEMA_REGISTRY_URL, registryUrl,
                RouterConfig.APPLICATION_ID, "stream-bench-router", RouterConfig.STATE_DIR, work.resolve("router").toString()));
        if (routerCommitMs != null) m.put(RouterConfig.STREAMS_PREFIX + "commit.interval.ms", routerCommitMs);
        m.putAll(routerExtra);
        return m;
    }

    /**
     * Requests at {@code inFlight} for {@link #warmupSeconds}: the overhead's p50 per 10-second window, which shows the JVMs'
     * paths being compiled (the measured runs start once it is flat).
     */
    private List<Map<String, Object>> warmUp(InferenceClient client, int inFlight) throws Exception {
        List<Map<String, Object>> windows = new ArrayList<>();
        long end = System.nanoTime() + warmupSeconds * 1_000_000_000L;
        for (int w = 0; System.nanoTime() < end; w++) {
            long windowEnd = Math.min(end, System.nanoTime() + 10_000_000_000L);
            List<Double> overhead = new ArrayList<>();
            int n = 0;
            while (System.nanoTime() < windowEnd) {
                for (Sample s : run(client, inFlight, 4 * inFlight, "warm-s" + w)) {
                    n++;
                    if (s.firstNanos() != 0 && s.response().getStatus() == ResponseStatus.OK) {
                        overhead.add((s.firstNanos() - s.sentNanos()) / 1e6 - s.response().getTimings().getPrefillMs());
                    }
                }
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("window_s", (w + 1) * 10);
            m.put("requests", n);
            m.put("overhead_p50_ms", round(percentile(overhead, 50)));
            windows.add(m);
            System.out.printf(Locale.ROOT, "stream: warm-up %3d s, %d in flight: %d requests, overhead p50 %.1f ms%n", (w + 1) * 10, inFlight, n,
                    percentile(overhead, 50));
        }
        return windows;
    }

    private List<Sample> run(InferenceClient client, int inFlight, int n, String tag) throws Exception {
        Semaphore slots = new Semaphore(inFlight);
        List<CompletableFuture<Sample>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            slots.acquire();
            InferenceRequest r = Requests.base("bench", i % 4 == 3 ? null : List.of("dermatology", "cardiology", "nutrition").get(i % 4 == 3 ? 0 : i % 3), newTokens)
                    .setPrompt("streaming request " + tag + " " + i).build();
            r.getParams().setIgnoreEos(true);
            long[] first = {0, 0};
            r.setSubmittedAtMs(Instant.now());
            long sent = System.nanoTime(), sentMs = System.currentTimeMillis();
            CompletableFuture<InferenceResponse> f = client.stream(r, Duration.ofSeconds(60), piece -> {
                if (first[0] == 0) {
                    first[0] = System.nanoTime();
                    first[1] = System.currentTimeMillis();
                }
            });
            all.add(f.whenComplete((x, e) -> slots.release()).thenApply(resp -> new Sample(r.getRequestId(), sent, sentMs, first[0], first[1], resp)));
        }
        List<Sample> out = new ArrayList<>();
        for (CompletableFuture<Sample> f : all) out.add(f.get(2, TimeUnit.MINUTES));
        return out;
    }

    private Map<String, Object> summarise(int inFlight, List<Sample> samples, ChunkClock chunks, RoutedClock sentByRouter, RoutedClock visible)
            throws InterruptedException {
        chunks.awaitAll(samples.stream().map(Sample::id).toList(), Duration.ofSeconds(30));
        List<Double> toRouterSend = new ArrayList<>(), routerCommit = new ArrayList<>(), workerPickup = new ArrayList<>();
        List<Double> client = new ArrayList<>(), engine = new ArrayList<>(), overhead = new ArrayList<>(), requestPath = new ArrayList<>(),
                hop = new ArrayList<>(), chunkLatency = new ArrayList<>(), tokensPerChunk = new ArrayList<>();
        int notOk = 0, streamedLate = 0;
        for (Sample s : samples) {
            if (s.response().getStatus() != ResponseStatus.OK) {
                notOk++;
                continue;
            }
            List<ChunkClock.Seen> mine = chunks.of(s.id());
            if (mine.isEmpty() || s.firstNanos() == 0) {
                streamedLate++;
                continue;
            }
            double ttft = (s.firstNanos() - s.sentNanos()) / 1e6;
            double prefill = s.response().getTimings().getPrefillMs();
            long firstCreated = mine.getFirst().chunk().getCreatedAtMs().toEpochMilli();
            client.add(ttft);
            engine.add(prefill);
            overhead.add(ttft - prefill);
            requestPath.add(firstCreated - s.sentEpochMs() - prefill);
            Long routed = sentByRouter.at(s.id()), seen = visible.at(s.id());
            if (routed != null && seen != null) {
                toRouterSend.add((double) (routed - s.sentEpochMs()));
                routerCommit.add((double) (seen - routed));
                workerPickup.add(firstCreated - seen - prefill);
            }
            hop.add((double) (s.firstEpochMs() - firstCreated));
            for (ChunkClock.Seen c : mine) {
                chunkLatency.add((double) (c.receivedMs() - c.chunk().getCreatedAtMs().toEpochMilli()));
                tokensPerChunk.add((double) c.chunk().getTokenIds().size());
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("in_flight", inFlight);
        m.put("requests", samples.size());
        m.put("not_ok", notOk);
        m.put("without_streamed_text", streamedLate);
        put(m, "client_ttft", client);
        put(m, "engine_ttft", engine);
        put(m, "overhead", overhead);
        put(m, "request_path", requestPath);
        put(m, "request_path_to_router_send", toRouterSend);
        put(m, "request_path_router_commit", routerCommit);
        put(m, "request_path_worker_pickup", workerPickup);
        put(m, "stream_hop", hop);
        put(m, "chunk_latency", chunkLatency);
        m.put("tokens_per_chunk_mean", round(tokensPerChunk.stream().mapToDouble(Double::doubleValue).average().orElse(0)));
        m.put("chunks", tokensPerChunk.size());
        return m;
    }

    private static void put(Map<String, Object> m, String name, List<Double> v) {
        m.put(name + "_p50_ms", round(percentile(v, 50)));
        m.put(name + "_p99_ms", round(percentile(v, 99)));
    }

    static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) return Double.NaN;
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v[(int) Math.min(v.length - 1, Math.ceil(p / 100 * v.length) - 1)];
    }

    private static double round(double x) { return Math.round(x * 100) / 100.0; }

    /**
     * An independent reader of one topic ({@link AssignedReader}), standing at the end of every partition before anything
     * is sent: when each record reached it.
     */
    private abstract static class ArrivalClock<V> extends AssignedReader<V> {
        ArrivalClock(String bootstrap, String isolation, org.apache.kafka.common.serialization.Deserializer<V> values, String topic) {
            super(new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation), new StringDeserializer(), values), topic, "stream-bench-" + topic + "-" + isolation);
            if (!assignAllAtEnd()) throw new IllegalStateException("topic " + topic + " does not exist");
            startThread();
        }

        @Override
        protected final void accept(ConsumerRecord<String, V> record) { arrived(record.value(), System.currentTimeMillis()); }

        abstract void arrived(V value, long receivedMs);
    }

    /**
     * When each routed request reached a reader of inference.requests.routed: read uncommitted, when the router's producer
     * sent it; read committed, when the router's transaction made it visible to workers.
     */
    private static final class RoutedClock extends ArrivalClock<InferenceRequest> {
        private final Map<String, Long> seen = new ConcurrentHashMap<>();

        RoutedClock(String bootstrap, HttpSchemaRegistryClient registry, String isolation) {
            super(bootstrap, isolation, new AvroDeserializer<>(registry, InferenceRequest.class), Topics.ROUTED);
        }

        @Override
        void arrived(InferenceRequest request, long receivedMs) { seen.putIfAbsent(request.getRequestId(), receivedMs); }

        Long at(String id) { return seen.get(id); }
    }

    /** When each chunk reached a reader of inference.stream. */
    private static final class ChunkClock extends ArrivalClock<TokenChunk> {
        record Seen(TokenChunk chunk, long receivedMs) {}

        private final Map<String, List<Seen>> byRequest = new ConcurrentHashMap<>();

        ChunkClock(String bootstrap, HttpSchemaRegistryClient registry) {
            super(bootstrap, "read_uncommitted", new AvroDeserializer<>(registry, TokenChunk.class), Topics.STREAM);
        }

        @Override
        void arrived(TokenChunk chunk, long receivedMs) {
            byRequest.computeIfAbsent(chunk.getRequestId(), k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(new Seen(chunk, receivedMs));
        }

        List<Seen> of(String id) { return byRequest.getOrDefault(id, List.of()); }

        void awaitAll(List<String> ids, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline && !ids.stream().allMatch(byRequest::containsKey)) Thread.sleep(50);
        }
    }
}
