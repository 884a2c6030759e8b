package dev.lorastream.launcher;

import dev.lorastream.ingest.http.HttpConfig;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * What {@code demo} and {@code up} start: an embedded broker and registry unless both
 * {@code --bootstrap-servers} and {@code --schema-registry} name existing ones.
 *
 * @param modelDir       null: the demo models, written to {@link #demoModels()}
 * @param workerSettings the worker's engine and cache settings, by {@link dev.lorastream.worker.WorkerConfig} key
 * @param httpSettings   the HTTP endpoint's settings besides its port (host, keys file, rate limits), by {@link HttpConfig} key
 */
record StackSettings(String command, String bootstrapServers, String schemaRegistry, Path workDir,
                     Path modelDir, Path adapterDir, int httpPort, int kafkaPort, int registryPort, int partitions, int metricsPort,
                     Map<String, Object> workerSettings, Map<String, Object> httpSettings) {

    StackSettings {
        workerSettings = Map.copyOf(workerSettings);
        httpSettings = Map.copyOf(httpSettings);
    }

    /** Without HTTP settings of its own: the endpoint on 127.0.0.1, no keys. */
    StackSettings(String command, String bootstrapServers, String schemaRegistry, Path workDir,
                  Path modelDir, Path adapterDir, int httpPort, int kafkaPort, int registryPort, int partitions, int metricsPort,
                  Map<String, Object> workerSettings) {
        this(command, bootstrapServers, schemaRegistry, workDir, modelDir, adapterDir, httpPort, kafkaPort, registryPort, partitions,
                metricsPort, workerSettings, Map.of());
    }

    /** The HTTP endpoint's configuration: {@link #httpSettings} and the port; refused as {@link HttpConfig} refuses it. */
    HttpConfig httpConfig() {
        Map<String, Object> props = new HashMap<>(httpSettings);
        props.put(HttpConfig.PORT, httpPort);
        return HttpConfig.from(props);
    }

    boolean embedded() { return bootstrapServers == null; }

    /** Where the demo backbone and adapters are written when no --model is given: inside the work dir. */
    Path demoModels() { return workDir.resolve("models"); }
}
