package dev.lorastream.platform;

/**
 * A Kafka broker and a Confluent-API schema registry that the pipeline's components connect to:
 * in this JVM and a child process ({@link EmbeddedPlatform}) or in containers ({@link ContainerPlatform}).
 */
public interface KafkaPlatform extends AutoCloseable {

    /** The {@code bootstrap.servers} value for clients, e.g. {@code 127.0.0.1:39211}. */
    String bootstrapServers();

    /**
     * The base URL of the Confluent Schema Registry REST API: the registry root for Confluent,
     * {@code http://127.0.0.1:PORT/apis/ccompat/v7} for Apicurio Registry.
     */
    String schemaRegistryUrl();

    /** One line saying what runs where, for logs and test failure messages. */
    String describe();

    /** Stops what this platform started; a second call does nothing. */
    @Override
    void close();
}
