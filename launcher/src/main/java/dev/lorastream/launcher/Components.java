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
import dev.lorastream.worker.Worker;
import dev.lorastream.worker.WorkerConfig;
import dev.lorastream.worker.engine.EngineConfig;
import dev.lorastream.worker.engine.InferenceEngine;
import dev.lorastream.worker.engine.cache.CacheConfig;
import dev.lorastream.worker.engine.onnx.OnnxLoraEngine;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Builds each component from the connection and its own settings; one place for the wiring. */
final class Components {
    private Components() {}

    static RouterApp router(Connection c, Path stateDir) {
        Map<String, Object> props = new HashMap<>();
        props.put(RouterConfig.BOOTSTRAP_SERVERS, c.bootstrapServers());
        props.put(RouterConfig.SCHEMA_REGISTRY_URL, c.schemaRegistryUrl());
        if (stateDir != null) props.put(RouterConfig.STATE_DIR, stateDir.toString());
        return new RouterApp(new RouterConfig(props));
    }

    static InferenceEngine engine(Path model, Path adapters, String provider, int maxBatch, CacheConfig cache) {
        return OnnxLoraEngine.open(new EngineConfig(model, adapters, provider, maxBatch), cache);
    }

    /** The adapter cache's tiers from {@code --adapter-device-bytes} / {@code --adapter-host-bytes} (0 or absent: automatic). */
    static CacheConfig cache(Options o) {
        return new CacheConfig(bytes(o, "adapter-device-bytes"), bytes(o, "adapter-host-bytes"), "lru");
    }

    private static long bytes(Options o, String option) {
        String v = o.get(option);
        if (v == null) return 0;
        try {
            long n = ConfigKey.parseBytes(v);
            if (n < 0) throw new NumberFormatException();
            return n;
        } catch (RuntimeException e) {
            throw new Options.UsageException("--" + option + " must be a size such as 4194304, 512KiB, 64MiB or 2GiB, got '" + v + "'");
        }
    }

    static Worker worker(Connection c, InferenceEngine engine, Path model, Path adapters, String workerId, String provider, int maxBatch, CacheConfig cache) {
        Map<String, Object> props = new HashMap<>();
        props.put(WorkerConfig.BOOTSTRAP_SERVERS.name(), c.bootstrapServers());
        props.put(WorkerConfig.SCHEMA_REGISTRY_URL.name(), c.schemaRegistryUrl());
        props.put(WorkerConfig.MODEL_DIR.name(), model.toString());
        props.put(WorkerConfig.ADAPTER_DIR.name(), adapters.toString());
        props.put(WorkerConfig.EXECUTION_PROVIDER.name(), provider);
        props.put(WorkerConfig.MAX_BATCH_SIZE.name(), maxBatch);
        if (workerId != null) props.put(WorkerConfig.WORKER_ID.name(), workerId);
        props.put(WorkerConfig.ADAPTER_DEVICE_BYTES.name(), cache.deviceBytes());
        props.put(WorkerConfig.ADAPTER_HOST_BYTES.name(), cache.hostBytes());
        return new Worker(WorkerConfig.from(props), engine);
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
