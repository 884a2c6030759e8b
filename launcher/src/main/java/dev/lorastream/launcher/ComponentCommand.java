package dev.lorastream.launcher;

import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.MetricsEndpoint;
import dev.lorastream.worker.Worker;
import dev.lorastream.worker.WorkerConfig;
import dev.lorastream.engine.InferenceEngine;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CountDownLatch;

/**
 * {@code ./pipeline router|worker|sink|http}: one component against an existing Kafka cluster and
 * schema registry (how docker-compose and production run them), until SIGTERM.
 */
final class ComponentCommand {
    private ComponentCommand() {}

    static int run(String command, Options o) {
        String bootstrap = o.get("bootstrap-servers");
        String registryUrl = o.get("schema-registry");
        if (bootstrap == null || registryUrl == null) {
            throw new Options.UsageException(command + ": needs --bootstrap-servers and --schema-registry (or LORASTREAM_BOOTSTRAP_SERVERS and LORASTREAM_SCHEMA_REGISTRY)");
        }
        Connection c = new Connection(bootstrap, registryUrl);
        TopicSetup.ensure(bootstrap, 4, (short) 1);
        SchemaRegistryClient registry = new HttpSchemaRegistryClient(registryUrl);
        Topics.declareSubjects(registry);
        Deque<AutoCloseable> parts = new ArrayDeque<>();
        switch (command) {
            case "router" -> {
                var router = Components.router(c, o.has("state-dir") ? Path.of(o.get("state-dir")) : null, o);
                router.start();
                parts.push(router);
                var metrics = MetricsEndpoint.of("0.0.0.0", o.intValue(command, "metrics-port", 9401, 0, 65535), router::prometheusText).start();
                parts.push(metrics);
                System.out.println("router: " + router.placement() + "; metrics on port " + metrics.port() + " (/metrics)");
            }
            case "worker" -> {
                boolean sim = "sim".equals(o.get("engine", "onnx"));
                if (!sim && (!o.has("model") || !o.has("adapters"))) {
                    throw new Options.UsageException("worker: needs --model DIR and --adapters DIR (or --engine sim)");
                }
                Path model = o.has("model") ? Path.of(o.get("model")) : null;
                Path adapters = o.has("adapters") ? Path.of(o.get("adapters")) : null;
                WorkerConfig config = Components.workerConfig(c, model, adapters, o.get("worker-id"), o);
                InferenceEngine engine = Components.engine(config);
                parts.push(engine);
                if (sim) System.out.println("worker: SIMULATED engine (" + engine.model().baseModel() + "), " + engine.adapterIds().size() + " simulated adapters; no catalog published");
                else AdapterCatalog.publish(c, registry, AdapterCatalog.describe(engine, adapters));
                var worker = new Worker(config, engine);
                worker.start();
                parts.push(worker);
                var metrics = new MetricsEndpoint("0.0.0.0", o.intValue(command, "metrics-port", 9400, 0, 65535), worker.metrics(), engine).start();
                parts.push(metrics);
                System.out.println("worker: metrics on port " + metrics.port() + " (/metrics)");
            }
            case "sink" -> {
                var sink = Components.sink(c, Path.of(o.get("data-dir", "data")));
                sink.start();
                parts.push(sink);
            }
            case "http" -> {
                InferenceClient client = Components.client(c);
                parts.push(client);
                var http = Components.http(client, o.intValue(command, "http-port", 8000, 0, 65535));
                http.start();
                parts.push(http);
                System.out.println("http: listening on port " + http.port());
            }
            default -> throw new Options.UsageException("unknown component " + command);
        }
        System.out.println(command + ": running against " + bootstrap + " and " + registryUrl);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            while (!parts.isEmpty()) {
                try { parts.pop().close(); } catch (Exception e) { System.err.println(command + ": close failed: " + e); }
            }
            stopped.countDown();
        }));
        try { stopped.await(); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        return 0;
    }
}
