package dev.lorastream.launcher;

import dev.lorastream.schemas.cli.Cli;
import dev.lorastream.schemas.cli.ConnectionOptions;
import dev.lorastream.schemas.cli.Settings;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;

/** The options {@code demo} and {@code up} share besides the connection, the engine's and the cache's (their own mixins). */
final class StackOptions {
    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "where the embedded broker's data, the router's state, the sink's store and the demo models go "
                    + "(default: <checkout>/.work/<command>)")
    Path workDir;

    @Option(names = "--model", paramLabel = "DIR",
            description = "backbone model directory, with --adapters (default: the demo backbone, written to <work-dir>/models)")
    Path model;

    @Option(names = "--adapters", paramLabel = "DIR",
            description = "directory holding one folder per PEFT adapter, with --model (default: the three demo adapters)")
    Path adapters;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "4",
            description = "partitions of the topics the stack creates, 1 to 1024 (default: ${DEFAULT-VALUE})")
    int partitions;

    /**
     * The stack the command describes; usage errors for half a connection, a model without adapters
     * (or adapters without a model) and a partition count out of range.
     */
    StackSettings settings(CommandSpec command, ConnectionOptions connection, int httpPort, int kafkaPort, int registryPort, int metricsPort) {
        return settings(command, connection, httpPort, kafkaPort, registryPort, metricsPort, Map.of());
    }

    /** @param http the HTTP endpoint's settings besides its port, by {@link dev.lorastream.ingest.http.HttpConfig} key */
    StackSettings settings(CommandSpec command, ConnectionOptions connection, int httpPort, int kafkaPort, int registryPort, int metricsPort,
                           Map<String, Object> http) {
        if ((connection.bootstrapServers() == null) != (connection.schemaRegistry() == null)) {
            throw Cli.usageError(command, "--bootstrap-servers and --schema-registry go together: "
                    + "give both to use an existing cluster and registry, or neither for the embedded ones");
        }
        if ((model == null) != (adapters == null)) {
            throw Cli.usageError(command, "--model and --adapters go together (a backbone directory and a directory of PEFT adapters)");
        }
        if (partitions < 1 || partitions > 1024) throw Cli.usageError(command, "--partitions must be in [1, 1024], got " + partitions);
        Path root = Path.of(System.getProperty("lorastream.root", ".")).toAbsolutePath().normalize();
        Path work = (workDir != null ? workDir : root.resolve(".work").resolve(command.name())).toAbsolutePath();
        return new StackSettings(command.name(), connection.bootstrapServers(), connection.schemaRegistry(), work,
                model == null ? null : model.toAbsolutePath(), adapters == null ? null : adapters.toAbsolutePath(),
                httpPort, kafkaPort, registryPort, partitions, metricsPort, Settings.of(command), http);
    }
}
