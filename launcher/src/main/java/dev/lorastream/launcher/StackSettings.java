package dev.lorastream.launcher;

import java.nio.file.Path;
import java.util.Map;

/**
 * What {@code demo} and {@code up} start: an embedded broker and registry unless both
 * {@code --bootstrap-servers} and {@code --schema-registry} name existing ones.
 *
 * @param modelDir       null: the demo models, written to {@link #demoModels()}
 * @param workerSettings the worker's engine and cache settings, by {@link dev.lorastream.worker.WorkerConfig} key
 */
record StackSettings(String command, String bootstrapServers, String schemaRegistry, Path workDir,
                     Path modelDir, Path adapterDir, int httpPort, int kafkaPort, int registryPort, int partitions, int metricsPort,
                     Map<String, Object> workerSettings) {

    StackSettings {
        workerSettings = Map.copyOf(workerSettings);
    }

    boolean embedded() { return bootstrapServers == null; }

    /** Where the demo backbone and adapters are written when no --model is given: inside the work dir. */
    Path demoModels() { return workDir.resolve("models"); }
}
