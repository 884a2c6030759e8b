package dev.lorastream.launcher;

import java.nio.file.Path;

/**
 * What {@code demo} and {@code up} start: an embedded broker and registry unless both
 * {@code --bootstrap-servers} and {@code --schema-registry} name existing ones.
 */
record StackSettings(String command, String bootstrapServers, String schemaRegistry, Path workDir,
                     Path modelDir, Path adapterDir, int httpPort, int kafkaPort, int registryPort, int partitions, int metricsPort, Options options) {

    boolean embedded() { return bootstrapServers == null; }

    static StackSettings from(String command, Options o, boolean demo) {
        String bootstrap = o.get("bootstrap-servers");
        String registry = o.get("schema-registry");
        if ((bootstrap == null) != (registry == null)) {
            throw new Options.UsageException(command + ": --bootstrap-servers and --schema-registry go together: "
                    + "give both to use an existing cluster and registry, or neither for the embedded ones");
        }
        if ((o.has("model")) != (o.has("adapters"))) {
            throw new Options.UsageException(command + ": --model and --adapters go together (a backbone directory and a directory of PEFT adapters)");
        }
        Path root = Path.of(System.getProperty("lorastream.root", ".")).toAbsolutePath().normalize();
        Path work = Path.of(o.get("work-dir", root.resolve(".work").resolve(command).toString())).toAbsolutePath();
        Path model = o.has("model") ? Path.of(o.get("model")).toAbsolutePath() : null;
        Path adapters = o.has("adapters") ? Path.of(o.get("adapters")).toAbsolutePath() : null;
        int http = o.intValue(command, "http-port", demo ? 0 : 8000, 0, 65535);
        int kafka = o.intValue(command, "kafka-port", demo ? 0 : 9092, 0, 65535);
        int reg = o.intValue(command, "registry-port", demo ? 0 : 8081, 0, 65535);
        int partitions = o.intValue(command, "partitions", 4, 1, 1024);
        int metrics = o.intValue(command, "metrics-port", demo ? 0 : 9400, 0, 65535);
        return new StackSettings(command, bootstrap, registry, work, model, adapters, http, kafka, reg, partitions, metrics, o);
    }
}
