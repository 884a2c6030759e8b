package dev.lorastream.bench.gpu;

import dev.lorastream.platform.EmbeddedKafkaBroker;
import dev.lorastream.schemas.GenerationParams;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.registry.InMemorySchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.Worker;
import dev.lorastream.worker.WorkerConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.demo.RandomModels;
import dev.lorastream.engine.onnx.OnnxLoraEngine;
import dev.lorastream.worker.internal.KafkaWorkerClients;
import dev.lorastream.worker.internal.WorkerClients;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Item 5 of the GPU benchmark: end to end through Kafka in one JVM. An in-process KRaft broker
 * ({@link EmbeddedKafkaBroker}, data under the work folder), the pipeline's topics
 * ({@link TopicSetup}), an in-memory schema registry shared by every serde, and a {@link Worker}
 * on the bench's engine. A closed-loop client keeps {@code inFlight} requests outstanding: each is
 * produced to {@code inference.requests.routed} keyed by its adapter (Zipf(1.0) over the many
 * adapters), and its latency runs from the send to the committed response read back from
 * {@code inference.responses}. The same request stream then goes straight to
 * {@link OnnxLoraEngine#submit} with the same in-flight count; {@code kafka_overhead_p50_ms} =
 * p50(Kafka) − p50(direct).
 */
final class KafkaBench {
    private KafkaBench() {}

    /**
     * One load level: {@code inFlight} requests outstanding, {@code requests} per pass, {@code newTokens} each.
     * {@code saturated}: as many in flight as the worker's batch, so latency is mostly waiting for the batch's
     * throughput; {@code unsaturated}: a quarter of that, so latency is one request's own generation plus what
     * the path adds; {@code transport}: one at a time, one new token, so latency is little more than the path.
     */
    record Scenario(String name, int inFlight, int requests, int newTokens) {}

    static List<Scenario> scenarios(int batch, int inFlight, int requests, int newTokens) {
        return List.of(new Scenario("saturated", inFlight, requests, newTokens),
                new Scenario("unsaturated", Math.max(1, batch / 4), Math.max(8, requests / 4), newTokens),
                new Scenario("transport", 1, Math.max(8, Math.min(64, requests / 4)), 1));
    }

    static Map<String, Object> run(OnnxLoraEngine engine, Path work, Path modelDir, Path adapterDir, List<String> adapters,
                                   RandomModels.BackboneSpec spec, int batch, int promptLen, int newTokens, int requests, int inFlight,
                                   int partitions, int rounds, Map<String, Object> report) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("adapters", adapters.size());
        m.put("popularity", "Zipf(1.0)");
        m.put("worker_max_batch", batch);
        m.put("partitions", partitions);
        m.put("prompt_tokens", promptLen);
        m.put("rounds", rounds);
        m.put("order", "per round and load level: direct then Kafka in even rounds, Kafka then direct in odd ones; "
                + "every adapter of the streams placed in host memory first, so neither path pays store loads the other does not");
        long t0 = System.nanoTime();
        Path dir = work.resolve("kafka-" + Long.toString(System.nanoTime(), 36));
        List<Scenario> scenarios = scenarios(batch, inFlight, requests, newTokens);
        Map<String, List<GenerationTask>> streams = new LinkedHashMap<>();
        long seed = 22;
        for (Scenario sc : scenarios) {
            streams.put(sc.name(), ManyAdapters.stream("k-" + sc.name() + "-", adapters, 1.0, sc.requests(), seed++, spec, promptLen, sc.newTokens()));
        }
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, 0, partitions).start()) {
            String bootstrap = broker.bootstrapServers();
            TopicSetup.ensure(bootstrap, partitions, (short) 1);
            InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
            Topics.declareSubjects(registry);
            m.put("broker_start_ms", GpuCheck.ms(System.nanoTime() - t0));
            Map<String, Object> raw = new HashMap<>();
            raw.put("bootstrap.servers", bootstrap);
            raw.put("schema.registry.url", "http://in-process.invalid");
            raw.put("worker.id", "bench-worker");
            raw.put("group.id", "bench-workers");
            raw.put("model.dir", modelDir.toString());
            raw.put("adapter.dir", adapterDir.toString());
            raw.put("max.batch.size", batch);
            raw.put("max.poll.records", batch);
            WorkerConfig config = WorkerConfig.from(raw); // poll.timeout.ms as by default: while requests decode the worker polls with PollLoop's short busy timeout
            m.put("worker_poll_timeout_ms", config.pollTimeout().toMillis());
            WorkerClients clients = new WorkerClients() {
                @Override public SchemaRegistryClient registry() { return registry; }
                @Override public Consumer<byte[], byte[]> requestConsumer() {
                    return new KafkaConsumer<>(KafkaWorkerClients.consumerProps(config), new ByteArrayDeserializer(), new ByteArrayDeserializer());
                }
                @Override public Producer<String, SpecificRecord> transactionalProducer() {
                    return new KafkaProducer<>(KafkaWorkerClients.transactionalProps(config), new StringSerializer(), new AvroSerializer<>(registry, false));
                }
                @Override public Producer<String, SpecificRecord> statusProducer() {
                    return new KafkaProducer<>(KafkaWorkerClients.statusProps(config), new StringSerializer(), new AvroSerializer<>(registry, false));
                }
            };
            long p0 = System.nanoTime();
            m.put("adapters_placed_in_host_memory", warmAdapters(engine, streams.values(), batch));
            m.put("adapter_warmup_ms", GpuCheck.ms(System.nanoTime() - p0));
            List<GenerationTask> warm = ManyAdapters.stream("kw", adapters, 1.0, Math.max(inFlight, 8), 21, spec, promptLen, newTokens);
            try (Worker worker = new Worker(config, engine, clients, Clock.systemUTC());
                 Client client = new Client(bootstrap, registry, partitions)) {
                long w0 = System.nanoTime();
                worker.start();
                Map<String, Object> warmRun = client.pass(warm, inFlight, Duration.ofMinutes(5));
                m.put("kafka_warmup", Map.of("wall_ms", warmRun.get("wall_ms"), "ms_incl_worker_start", GpuCheck.ms(System.nanoTime() - w0)));
                direct(engine, warm, inFlight);
                Map<String, Object> levels = new LinkedHashMap<>();
                for (Scenario sc : scenarios) {
                    List<GenerationTask> tasks = streams.get(sc.name());
                    long commits0 = worker.metrics().commits(), commitNanos0 = worker.metrics().commitNanos();
                    List<double[]> kafkaLat = new ArrayList<>(), directLat = new ArrayList<>();
                    List<Map<String, Object>> kafkaRuns = new ArrayList<>(), directRuns = new ArrayList<>();
                    for (int round = 0; round < rounds; round++) {
                        List<GenerationTask> t = renamed(tasks, "r" + round + "-");
                        for (boolean throughKafka : new boolean[] {round % 2 == 1, round % 2 == 0}) {
                            if (throughKafka) {
                                Map<String, Object> k = client.pass(t, sc.inFlight(), Duration.ofMinutes(10));
                                kafkaLat.add((double[]) k.remove("latencies"));
                                kafkaRuns.add(k);
                            } else {
                                Map<String, Object> d = direct(engine, t, sc.inFlight());
                                directLat.add((double[]) d.remove("latencies"));
                                directRuns.add(d);
                            }
                        }
                    }
                    Map<String, Object> level = new LinkedHashMap<>();
                    level.put("in_flight", sc.inFlight());
                    level.put("requests_per_pass", sc.requests());
                    level.put("new_tokens", sc.newTokens());
                    Map<String, Object> kafka = pooled(kafkaLat, kafkaRuns), direct = pooled(directLat, directRuns);
                    long commits = worker.metrics().commits() - commits0;
                    level.put("worker_transactions", commits);
                    level.put("worker_mean_commit_ms", GpuCheck.round(commits == 0 ? 0 : (worker.metrics().commitNanos() - commitNanos0) / 1e6 / commits));
                    level.put("kafka", kafka);
                    level.put("direct", direct);
                    level.put("kafka_runs", kafkaRuns);
                    level.put("direct_runs", directRuns);
                    double overhead = (double) kafka.get("p50_ms") - (double) direct.get("p50_ms");
                    level.put("overhead_p50_ms", GpuCheck.round(overhead));
                    level.put("overhead_p99_ms", GpuCheck.round((double) kafka.get("p99_ms") - (double) direct.get("p99_ms")));
                    level.put("kafka_vs_direct_requests_per_s", GpuCheck.round4((double) kafka.get("requests_per_s") / (double) direct.get("requests_per_s")));
                    levels.put(sc.name(), level);
                    System.out.printf(Locale.ROOT, "bench: kafka %s (%d in flight, %d new tokens): kafka %s req/s p50 %s p99 %s ms | direct %s req/s p50 %s p99 %s ms | overhead p50 %.1f ms | %d transactions, %s ms each%n",
                            sc.name(), sc.inFlight(), sc.newTokens(), kafka.get("requests_per_s"), kafka.get("p50_ms"), kafka.get("p99_ms"),
                            direct.get("requests_per_s"), direct.get("p50_ms"), direct.get("p99_ms"), overhead, commits, level.get("worker_mean_commit_ms"));
                }
                m.put("levels", levels);
                m.put("worker_metrics", String.valueOf(worker.metrics().snapshot()));
                Map<?, ?> headline = (Map<?, ?>) levels.get("unsaturated");
                Map<?, ?> saturated = (Map<?, ?>) levels.get("saturated");
                // the headline: what Kafka adds to a request's latency while the worker has room for it
                report.put("kafka_overhead_p50_ms", headline.get("overhead_p50_ms"));
                report.put("kafka_overhead_p50_ms_saturated", saturated.get("overhead_p50_ms"));
                report.put("kafka_overhead_p50_ms_transport", ((Map<?, ?>) levels.get("transport")).get("overhead_p50_ms"));
                report.put("kafka_vs_direct_requests_per_s_saturated", saturated.get("kafka_vs_direct_requests_per_s"));
                m.put("kafka", saturated.get("kafka")); // the saturated level under the old keys
                m.put("direct", saturated.get("direct"));
                m.put("kafka_overhead_p50_ms", headline.get("overhead_p50_ms"));
            }
        }
        m.put("item5_ms", GpuCheck.ms(System.nanoTime() - t0));
        return m;
    }

    /** The tasks with fresh request ids (each round's requests must be new to the pipeline). */
    static List<GenerationTask> renamed(List<GenerationTask> tasks, String prefix) {
        List<GenerationTask> out = new ArrayList<>(tasks.size());
        for (GenerationTask t : tasks) {
            out.add(new GenerationTask(prefix + t.requestId(), t.adapterId(), t.promptIds(), t.maxNewTokens(), t.temperature(), t.topP(),
                    t.topK(), t.seed(), t.ignoreEos()));
        }
        return out;
    }

    /** Every distinct adapter of the streams loaded once (one-token requests, a batch at a time); returns how many. */
    static int warmAdapters(OnnxLoraEngine engine, java.util.Collection<List<GenerationTask>> streams, int batch) {
        LinkedHashMap<String, GenerationTask> firstOf = new LinkedHashMap<>();
        for (List<GenerationTask> s : streams) for (GenerationTask t : s) firstOf.putIfAbsent(t.adapterId(), t);
        List<GenerationTask> one = new ArrayList<>();
        for (GenerationTask t : firstOf.values()) {
            one.add(new GenerationTask("warm-" + t.adapterId(), t.adapterId(), Arrays.copyOf(t.promptIds(), Math.min(8, t.promptIds().length)), 1,
                    0f, 1f, 0, 1L, true));
        }
        for (int i = 0; i < one.size(); i += batch) engine.generate(one.subList(i, Math.min(one.size(), i + batch)));
        return one.size();
    }

    /** Stats over the latencies of several passes together; requests/s and tokens/s from their summed walls. */
    static Map<String, Object> pooled(List<double[]> latencies, List<Map<String, Object>> runs) {
        int n = 0;
        for (double[] l : latencies) n += l.length;
        double[] all = new double[n];
        int i = 0;
        for (double[] l : latencies) {
            System.arraycopy(l, 0, all, i, l.length);
            i += l.length;
        }
        long tokens = 0;
        int errors = 0;
        double wall = 0;
        for (Map<String, Object> r : runs) {
            tokens += ((Number) r.get("tokens")).longValue();
            errors += ((Number) r.get("errors")).intValue();
            wall += ((Number) r.get("wall_ms")).doubleValue();
        }
        Map<String, Object> m = stats(all, n, errors, tokens, wall);
        if (runs.getFirst().containsKey("worker_timings")) m.put("worker_timings_first_pass", runs.getFirst().get("worker_timings"));
        return m;
    }

    /** The same tasks through {@link OnnxLoraEngine#submit}, {@code inFlight} outstanding; latency from submit to completion. */
    static Map<String, Object> direct(OnnxLoraEngine engine, List<GenerationTask> tasks, int inFlight) {
        Semaphore permits = new Semaphore(inFlight);
        double[] lat = new double[tasks.size()];
        List<CompletableFuture<Generation>> futures = new ArrayList<>(tasks.size());
        long t0 = System.nanoTime();
        for (int i = 0; i < tasks.size(); i++) {
            permits.acquireUninterruptibly();
            int idx = i;
            long s = System.nanoTime();
            CompletableFuture<Generation> f = engine.submit(tasks.get(i));
            futures.add(f.whenComplete((g, e) -> {
                lat[idx] = (System.nanoTime() - s) / 1e6;
                permits.release();
            }));
        }
        long tokens = 0;
        for (CompletableFuture<Generation> f : futures) tokens += f.join().tokenIds().length;
        double wallMs = (System.nanoTime() - t0) / 1e6;
        Map<String, Object> m = stats(lat, tasks.size(), 0, tokens, wallMs);
        m.put("latencies", lat);
        return m;
    }

    static Map<String, Object> stats(double[] lat, int n, int errors, long tokens, double wallMs) {
        double[] s = Arrays.copyOf(lat, lat.length);
        Arrays.sort(s);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("requests", n);
        m.put("errors", errors);
        m.put("tokens", tokens);
        m.put("wall_ms", GpuCheck.round(wallMs));
        m.put("requests_per_s", GpuCheck.round(n / (wallMs / 1e3)));
        m.put("tokens_per_s", GpuCheck.round(tokens / (wallMs / 1e3)));
        m.put("p50_ms", GpuCheck.round(pct(s, 0.50)));
        m.put("p90_ms", GpuCheck.round(pct(s, 0.90)));
        m.put("p99_ms", GpuCheck.round(pct(s, 0.99)));
        m.put("max_ms", GpuCheck.round(s.length == 0 ? 0 : s[s.length - 1]));
        m.put("mean_ms", GpuCheck.round(Arrays.stream(s).average().orElse(0)));
        return m;
    }

    /** Nearest-rank percentile of sorted values. */
    static double pct(double[] sorted, double q) {
        if (sorted.length == 0) return 0;
        int k = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, k))];
    }

    static InferenceRequest request(GenerationTask t) {
        List<Integer> ids = new ArrayList<>(t.promptIds().length);
        for (int id : t.promptIds()) ids.add(id);
        return InferenceRequest.newBuilder().setRequestId(t.requestId()).setTenant("bench").setAdapterId(t.adapterId())
                .setPromptTokenIds(ids)
                .setParams(GenerationParams.newBuilder().setMaxNewTokens(t.maxNewTokens()).setTemperature(0f).setTopP(1f).setTopK(0)
                        .setSeed(1L).setIgnoreEos(true).build())
                .setSubmittedAtMs(Instant.now()).build();
    }

    /** The request side: a producer to the routed topic and a read_committed consumer of every partition of the responses. */
    static final class Client implements AutoCloseable {
        private final KafkaProducer<String, SpecificRecord> producer;
        private final KafkaConsumer<String, InferenceResponse> consumer;
        private final Map<String, CompletableFuture<InferenceResponse>> waiting = new ConcurrentHashMap<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread reader;
        private volatile Throwable readerFailure;

        Client(String bootstrap, SchemaRegistryClient registry, int partitions) {
            Map<String, Object> p = new HashMap<>();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-client");
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
            producer = new KafkaProducer<>(p, new StringSerializer(), new AvroSerializer<>(registry, false));
            Map<String, Object> c = new HashMap<>();
            c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            c.put(ConsumerConfig.CLIENT_ID_CONFIG, "bench-responses");
            c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
            consumer = new KafkaConsumer<>(c, new StringDeserializer(), new AvroDeserializer<>(registry, InferenceResponse.class));
            List<TopicPartition> tps = new ArrayList<>();
            for (PartitionInfo pi : consumer.partitionsFor(Topics.RESPONSES)) tps.add(new TopicPartition(pi.topic(), pi.partition()));
            consumer.assign(tps);
            consumer.seekToEnd(tps);
            for (TopicPartition tp : tps) consumer.position(tp);
            reader = new Thread(this::read, "bench-responses");
            reader.setDaemon(true);
            reader.start();
        }

        private void read() {
            try {
                while (running.get()) {
                    for (ConsumerRecord<String, InferenceResponse> r : consumer.poll(Duration.ofMillis(20))) {
                        InferenceResponse resp = r.value();
                        if (resp == null) continue;
                        CompletableFuture<InferenceResponse> f = waiting.remove(resp.getRequestId());
                        if (f != null) f.complete(resp);
                    }
                }
            } catch (org.apache.kafka.common.errors.WakeupException e) {
                // closing
            } catch (Throwable t) {
                readerFailure = t;
                waiting.values().forEach(f -> f.completeExceptionally(t));
            }
        }

        /** Sends the tasks, {@code inFlight} outstanding; latency from send to response received. */
        Map<String, Object> pass(List<GenerationTask> tasks, int inFlight, Duration timeout) throws Exception {
            Semaphore permits = new Semaphore(inFlight);
            double[] lat = new double[tasks.size()];
            double[][] timings = new double[4][tasks.size()]; // the worker's own queue, prefill, decode, total ms per response
            AtomicInteger errors = new AtomicInteger();
            List<String> firstErrors = new ArrayList<>();
            List<CompletableFuture<InferenceResponse>> futures = new ArrayList<>(tasks.size());
            long deadline = System.nanoTime() + timeout.toNanos();
            long t0 = System.nanoTime();
            for (int i = 0; i < tasks.size(); i++) {
                GenerationTask t = tasks.get(i);
                if (!permits.tryAcquire(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    throw new IllegalStateException("no response within " + timeout + " (" + i + " of " + tasks.size() + " sent"
                            + (readerFailure == null ? "" : ", reader failed: " + readerFailure) + ")");
                }
                int idx = i;
                CompletableFuture<InferenceResponse> f = new CompletableFuture<>();
                waiting.put(t.requestId(), f);
                long s = System.nanoTime();
                futures.add(f.whenComplete((r, e) -> {
                    lat[idx] = (System.nanoTime() - s) / 1e6;
                    if (r != null && r.getTimings() != null) {
                        timings[0][idx] = r.getTimings().getQueueMs();
                        timings[1][idx] = r.getTimings().getPrefillMs();
                        timings[2][idx] = r.getTimings().getDecodeMs();
                        timings[3][idx] = r.getTimings().getTotalMs();
                    }
                    if (e != null || r.getStatus() != dev.lorastream.schemas.ResponseStatus.OK) {
                        errors.incrementAndGet();
                        synchronized (firstErrors) {
                            if (firstErrors.size() < 3) firstErrors.add(e != null ? e.toString() : String.valueOf(r.getError()));
                        }
                    }
                    permits.release();
                }));
                producer.send(new ProducerRecord<>(Topics.ROUTED, t.adapterId(), request(t)), (md, e) -> {
                    if (e != null) f.completeExceptionally(e);
                });
            }
            long tokens = 0;
            for (CompletableFuture<InferenceResponse> f : futures) {
                long left = Math.max(1, deadline - System.nanoTime());
                InferenceResponse r = f.handle((x, e) -> x).get(left, TimeUnit.NANOSECONDS);
                if (r != null) tokens += r.getTokenIds().size();
            }
            double wallMs = (System.nanoTime() - t0) / 1e6;
            Map<String, Object> m = stats(lat, tasks.size(), errors.get(), tokens, wallMs);
            Map<String, Object> w = new LinkedHashMap<>();
            String[] names = {"queue", "prefill", "decode", "total"};
            for (int i = 0; i < names.length; i++) {
                double[] v = Arrays.copyOf(timings[i], timings[i].length);
                Arrays.sort(v);
                w.put(names[i] + "_p50_ms", GpuCheck.round(pct(v, 0.5)));
                w.put(names[i] + "_p99_ms", GpuCheck.round(pct(v, 0.99)));
            }
            m.put("worker_timings", w); // InferenceResponse.timings as the worker reports them
            if (!firstErrors.isEmpty()) m.put("first_errors", firstErrors);
            m.put("latencies", lat);
            return m;
        }

        @Override
        public void close() {
            running.set(false);
            consumer.wakeup();
            try {
                reader.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            consumer.close(Duration.ofSeconds(2));
            producer.close(Duration.ofSeconds(2));
        }
    }
}
