package dev.lorastream.launcher;

import dev.lorastream.ingest.ClientConfig;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.http.HttpConfig;
import dev.lorastream.ingest.http.OpenAiServer;
import dev.lorastream.router.RouterApp;
import dev.lorastream.router.RouterConfig;
import dev.lorastream.sink.AttributionSink;
import dev.lorastream.sink.SinkConfig;
import dev.lorastream.worker.ConfigKey;
import dev.lorastream.worker.WorkerConfig;
import dev.lorastream.engine.InferenceEngine;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Builds each component from the connection and its own settings; one place for the wiring. */
final class Components {
    private Components() {}

    static RouterApp router(Connection c, Path stateDir) {
        return router(c, stateDir, Options.parse("router", new String[0], java.util.Set.of(), java.util.Set.of(), Map.of()));
    }

    /**
     * The router with the command's {@code --placement load-aware|hash}, {@code --worker-timeout-ms},
     * {@code --busy-at}; values are checked by {@link RouterConfig}, whose errors name the key.
     */
    static RouterApp router(Connection c, Path stateDir, Options o) {
        Map<String, Object> props = new HashMap<>();
        props.put(RouterConfig.BOOTSTRAP_SERVERS, c.bootstrapServers());
        props.put(RouterConfig.SCHEMA_REGISTRY_URL, c.schemaRegistryUrl());
        if (stateDir != null) props.put(RouterConfig.STATE_DIR, stateDir.toString());
        Map<String, String> fromOptions = Map.of("placement", RouterConfig.PLACEMENT, "worker-timeout-ms", RouterConfig.WORKER_TIMEOUT_MS,
                "busy-at", RouterConfig.BUSY_AT);
        fromOptions.forEach((option, key) -> {
            if (o.has(option)) props.put(key, o.get(option));
        });
        return new RouterApp(new RouterConfig(props));
    }

    /**
     * The worker's configuration from the command's options: {@code --provider}, {@code --max-batch},
     * {@code --precision}, {@code --tf32}, {@code --adapter-device-bytes}, {@code --adapter-host-bytes},
     * {@code --adapter-eviction-policy}, {@code --graph}, {@code --kv-capacity}, {@code --cuda-graphs}, {@code --bank-rank}, {@code --bank-targets};
     * values are checked by {@link WorkerConfig}, whose errors name the key.
     */
    static WorkerConfig workerConfig(Connection c, Path model, Path adapters, String workerId, Options o) {
        Map<String, Object> props = new HashMap<>();
        props.put(WorkerConfig.BOOTSTRAP_SERVERS.name(), c.bootstrapServers());
        props.put(WorkerConfig.SCHEMA_REGISTRY_URL.name(), c.schemaRegistryUrl());
        if (model != null) props.put(WorkerConfig.MODEL_DIR.name(), model.toString());
        if (adapters != null) props.put(WorkerConfig.ADAPTER_DIR.name(), adapters.toString());
        if (workerId != null) props.put(WorkerConfig.WORKER_ID.name(), workerId);
        Map<String, ConfigKey<?>> fromOptions = Map.ofEntries(
                Map.entry("provider", WorkerConfig.EXECUTION_PROVIDER),
                Map.entry("max-batch", WorkerConfig.MAX_BATCH_SIZE),
                Map.entry("precision", WorkerConfig.PRECISION),
                Map.entry("tf32", WorkerConfig.TF32),
                Map.entry("adapter-device-bytes", WorkerConfig.ADAPTER_DEVICE_BYTES),
                Map.entry("adapter-host-bytes", WorkerConfig.ADAPTER_HOST_BYTES),
                Map.entry("adapter-eviction-policy", WorkerConfig.ADAPTER_EVICTION_POLICY),
                Map.entry("graph", WorkerConfig.GRAPH),
                Map.entry("kv-capacity", WorkerConfig.KV_CAPACITY),
                Map.entry("cuda-graphs", WorkerConfig.CUDA_GRAPHS),
                Map.entry("bank-rank", WorkerConfig.BANK_RANK),
                Map.entry("bank-targets", WorkerConfig.BANK_TARGETS),
                Map.entry("engine", WorkerConfig.ENGINE),
                Map.entry("sim-adapters", WorkerConfig.SIM_ADAPTERS),
                Map.entry("sim-device-slots", WorkerConfig.SIM_DEVICE_SLOTS),
                Map.entry("sim-host-slots", WorkerConfig.SIM_HOST_SLOTS),
                Map.entry("sim-time-scale", WorkerConfig.SIM_TIME_SCALE));
        fromOptions.forEach((option, key) -> {
            if (o.has(option)) props.put(key.name(), o.get(option));
        });
        return WorkerConfig.from(props);
    }

    static InferenceEngine engine(WorkerConfig config) {
        return dev.lorastream.worker.EngineFactory.open(config);
    }

    static AttributionSink sink(Connection c, Path dataDir) {
        return new AttributionSink(SinkConfig.builder(c.bootstrapServers(), c.schemaRegistryUrl()).dataDir(dataDir).build());
    }

    static InferenceClient client(Connection c) {
        return new InferenceClient(ClientConfig.builder(c.bootstrapServers(), c.schemaRegistryUrl()).build());
    }

    static OpenAiServer http(InferenceClient client, int port) {
        return new OpenAiServer(HttpConfig.builder().port(port).build(), client);
    }
}
