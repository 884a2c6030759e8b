package dev.lorastream.gpu;

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
import dev.lorastream.worker.engine.Generation;
import dev.lorastream.worker.engine.GenerationTask;
import dev.lorastream.worker.engine.demo.RandomModels;
import dev.lorastream.worker.engine.onnx.OnnxLoraEngine;
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

    static Map<String, Object> run(OnnxLoraEngine engine, Path work, Path modelDir, Path adapterDir, List<String> adapters,
                                   RandomModels.BackboneSpec spec, int batch, int promptLen, int newTokens, int requests, int inFlight,
                                   int partitions, Map<String, Object> report) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("adapters", adapters.size());
        m.put("popularity", "Zipf(1.0)");
        m.put("requests", requests);
        m.put("in_flight", inFlight);
        m.put("worker_max_batch", batch);
        m.put("partitions", partitions);
        m.put("prompt_tokens", promptLen);
        m.put("new_tokens", newTokens);
        long t0 = System.nanoTime();
        Path dir = work.resolve("kafka-" + Long.toString(System.nanoTime(), 36));
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
            raw.put("poll.timeout.ms", 5);
            WorkerConfig config = WorkerConfig.from(raw);
            WorkerClients clients = new WorkerClients() {
                @Override public SchemaRegistryClient registry() { return registry; }
                @Override public Consumer<byte[], byte[]> requestConsumer() {
                    Map<String, Object> p = KafkaWorkerClients.consumerProps(config);
                    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
                    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
                }
                @Override public Producer<String, SpecificRecord> transactionalProducer() {
                    return new KafkaProducer<>(KafkaWorkerClients.transactionalProps(config), new StringSerializer(), new AvroSerializer<>(registry, false));
                }
                @Override public Producer<String, SpecificRecord> statusProducer() {
                    return new KafkaProducer<>(KafkaWorkerClients.statusProps(config), new StringSerializer(), new AvroSerializer<>(registry, false));
                }
            };
            List<GenerationTask> warm = ManyAdapters.stream("kw", adapters, 1.0, Math.max(inFlight, 8), 21, spec, promptLen, newTokens);
            List<GenerationTask> tasks = ManyAdapters.stream("k", adapters, 1.0, requests, 22, spec, promptLen, newTokens);
            try (Worker worker = new Worker(config, engine, clients, Clock.systemUTC());
                 Client client = new Client(bootstrap, registry, partitions)) {
                long w0 = System.nanoTime();
                worker.start();
                Map<String, Object> warmRun = client.pass(warm, inFlight, Duration.ofMinutes(5));
                m.put("kafka_warmup", Map.of("wall_ms", warmRun.get("wall_ms"), "ms_incl_worker_start", GpuCheck.ms(System.nanoTime() - w0)));
                Map<String, Object> kafka = client.pass(tasks, inFlight, Duration.ofMinutes(10));
                m.put("kafka", kafka);
                m.put("worker_metrics", String.valueOf(worker.metrics().snapshot()));
            }
            Map<String, Object> direct = direct(engine, tasks, inFlight);
            m.put("direct", direct);
            Map<?, ?> kafka = (Map<?, ?>) m.get("kafka");
            double overhead = (double) kafka.get("p50_ms") - (double) direct.get("p50_ms");
            m.put("kafka_overhead_p50_ms", GpuCheck.round(overhead));
            m.put("kafka_overhead_p99_ms", GpuCheck.round((double) kafka.get("p99_ms") - (double) direct.get("p99_ms")));
            m.put("kafka_vs_direct_requests_per_s", GpuCheck.round4((double) kafka.get("requests_per_s") / (double) direct.get("requests_per_s")));
            report.put("kafka_overhead_p50_ms", GpuCheck.round(overhead));
            System.out.printf(Locale.ROOT, "bench: kafka %s req/s p50 %s p99 %s ms | direct %s req/s p50 %s p99 %s ms | overhead p50 %.1f ms%n",
                    kafka.get("requests_per_s"), kafka.get("p50_ms"), kafka.get("p99_ms"), direct.get("requests_per_s"), direct.get("p50_ms"),
                    direct.get("p99_ms"), overhead);
        }
        m.put("item5_ms", GpuCheck.ms(System.nanoTime() - t0));
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
        return stats(lat, tasks.size(), 0, tokens, wallMs);
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
