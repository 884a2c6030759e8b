package dev.lorastream.schemas.cli;

import dev.lorastream.schemas.config.KafkaClientSettings;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Where Kafka and the schema registry are: the options of every Kafka-facing command, also read
 * from LORASTREAM_BOOTSTRAP_SERVERS and LORASTREAM_SCHEMA_REGISTRY (as every option, see {@link Cli}).
 * The keys are the ones every component's configuration uses for them.
 */
public final class ConnectionOptions {
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,HOST:PORT...]", description = "Kafka brokers to bootstrap from")
    @Setting(BOOTSTRAP_SERVERS)
    String bootstrapServers;

    @Option(names = "--schema-registry", paramLabel = "URL",
            description = "Confluent-compatible schema registry base URL (Confluent's root, or Apicurio's /apis/ccompat/v7)")
    @Setting(SCHEMA_REGISTRY_URL)
    String schemaRegistry;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** A secured cluster's client settings for every Kafka client of the command ({@link KafkaClientSettings}). */
    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "properties file with the cluster's client security settings (security.protocol, sasl.*, ssl.*), "
                    + "used by every Kafka client of this command, e.g. the one ./pipeline platform --secure writes")
    void kafkaConfig(java.nio.file.Path file) {
        try {
            KafkaClientSettings.use(file);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(command.commandLine(), "--kafka-config: " + e.getMessage());
        }
    }

    /** Null when not given. */
    public String bootstrapServers() { return bootstrapServers; }

    /** Null when not given. */
    public String schemaRegistry() { return schemaRegistry; }

    /** Whether neither is given (the launcher's stacks then start embedded ones). */
    public boolean none() { return bootstrapServers == null && schemaRegistry == null; }

    /** This, when both are given; else a usage error saying that the command needs them. */
    public ConnectionOptions require() {
        if (bootstrapServers == null || schemaRegistry == null) {
            throw new ParameterException(command.commandLine(), "needs --bootstrap-servers and --schema-registry "
                    + "(or " + Cli.ENV_PREFIX + "BOOTSTRAP_SERVERS and " + Cli.ENV_PREFIX + "SCHEMA_REGISTRY)");
        }
        return this;
    }
}
