package dev.lorastream.launcher;

import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.http.HttpConfig;
import dev.lorastream.ingest.http.OpenAiServer;
import dev.lorastream.platform.EmbeddedPlatform;
import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.router.RouterApp;
import dev.lorastream.schemas.registry.RememberingSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.sink.AttributionSink;
import dev.lorastream.worker.MetricsEndpoint;
import dev.lorastream.worker.Worker;
import dev.lorastream.worker.WorkerConfig;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.adapters.cache.CacheConfig;
import dev.lorastream.engine.onnx.OnnxLoraEngine;
import dev.lorastream.engine.demo.DemoModels;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The all-in-one stack: Kafka and a schema registry (embedded, or existing ones), the router, one
 * CPU worker, the attribution sink and the HTTP endpoint. Started in dependency order, closed in reverse.
 */
final class Stack implements AutoCloseable {
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    final Connection connection;
    final Path sinkDataDir;
    final AttributionSink sink;
    final InferenceClient client;
    final OpenAiServer http;
    final InferenceEngine engine;
    /** Adapters added and removed while the stack serves (the HTTP endpoint's runtime adapter requests). */
    final AdapterManager manager;

    private Stack(StackSettings s, PrintStream out) {
        started.push(WorkDirLock.acquire(s.workDir())); // closed last; refused at once when another stack holds the folder
        try {
            Connection c;
            if (s.embedded()) {
                KafkaPlatform platform = EmbeddedPlatform.builder(s.workDir().resolve("platform"))
                        .brokerPort(s.kafkaPort()).registryPort(s.registryPort()).partitions(s.partitions()).start();
                started.push(platform);
                c = new Connection(platform.bootstrapServers(), platform.schemaRegistryUrl());
                out.println("kafka       " + c.bootstrapServers() + "   (embedded KRaft broker, data in " + s.workDir().resolve("platform") + ")");
                out.println("registry    " + c.schemaRegistryUrl() + "   (embedded Apicurio Registry 3.3.3)");
            } else {
                c = new Connection(s.bootstrapServers(), s.schemaRegistry());
                out.println("kafka       " + c.bootstrapServers() + "   (existing)");
                out.println("registry    " + c.schemaRegistryUrl() + "   (existing)");
            }
            connection = c;
            TopicSetup.ensure(c.bootstrapServers(), s.partitions(), (short) 1);
            SchemaRegistryClient registry = RememberingSchemaRegistryClient.connect(c.schemaRegistryUrl());
            Topics.declareSubjects(registry);

            Path model = s.modelDir();
            Path adapters = s.adapterDir();
            if (model == null) {
                DemoModels.Paths demo = DemoModels.write(s.demoModels());
                model = demo.backbone();
                adapters = demo.adapters();
            }
            WorkerConfig workerConfig = Components.workerConfig(c, model, adapters, "worker-1", s.workerSettings());
            engine = Components.engine(workerConfig);
            started.push(engine);
            AdapterCatalog.publish(c, registry, AdapterCatalog.describe(engine, adapters));
            out.println("model       " + model + "   adapters " + engine.adapterIds().stream().sorted().toList()
                    + " on " + engine.model().executionProvider() + "; adapter cache " + describe(((OnnxLoraEngine) engine).status().cache().capacities()));

            RouterApp router = Components.router(c, s.workDir().resolve("router-state"));
            router.start();
            started.push(router);
            out.println("router      running (inference.requests -> inference.requests.routed, placed by " + router.placement() + ")");

            Worker worker = new Worker(workerConfig, engine);
            worker.start();
            started.push(worker);
            MetricsEndpoint metrics = new MetricsEndpoint("127.0.0.1", s.metricsPort(), worker.metrics(), engine).start();
            started.push(metrics);
            out.println("worker      worker-1 consuming inference.requests.routed; metrics http://127.0.0.1:" + metrics.port() + "/metrics");

            sinkDataDir = s.workDir().resolve("sink");
            sink = Components.sink(c, sinkDataDir);
            sink.start();
            started.push(sink);
            out.println("sink        attribution.events -> " + sinkDataDir);

            client = Components.client(c);
            started.push(client);
            manager = new AdapterManager(c, registry, model, adapters, workerConfig.engineConfig().maxLoraRank(), client::adapters);
            HttpConfig httpConfig = s.httpConfig();
            http = Components.http(client, httpConfig).adapterAdmin(manager);
            http.start();
            started.push(http);
            out.println("http        http://" + httpConfig.host() + ":" + http.port() + "/v1/completions  /v1/chat/completions  /v1/models"
                    + "  /v1/load_lora_adapter  /v1/unload_lora_adapter   ("
                    + (httpConfig.keysFile() == null ? "no API keys" : "API keys from " + httpConfig.keysFile()) + ")");
            out.println("adapters    " + adapters + "   (./pipeline adapters add|list|remove" + (s.embedded() ? "" : " --bootstrap-servers ... --schema-registry ...")
                    + " --model " + model + " --adapters " + adapters + ")");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    static Stack start(StackSettings settings, PrintStream out) { return new Stack(settings, out); }

    private static String describe(CacheConfig.Capacities c) {
        return c.deviceSlots() + " device slots (" + c.deviceBytes() / 1024 + " KiB), host " + c.hostBytes() / 1024 + " KiB";
    }

    /** Stops the sink first, so that its store can be read by the report. */
    void closeSink() {
        started.remove(sink);
        sink.close();
    }

    @Override
    public void close() {
        while (!started.isEmpty()) {
            AutoCloseable next = started.pop();
            try {
                next.close();
            } catch (Exception e) {
                System.err.println("shutdown: " + next.getClass().getSimpleName() + " failed to close: " + e);
            }
        }
    }
}
