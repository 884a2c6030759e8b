package dev.lorastream.platform;

/** The Confluent Platform images of the container face; docker-compose.yml uses the same tags. */
public final class ConfluentImages {
    /** Kafka in KRaft mode (broker and controller in one container). */
    public static final String KAFKA = "confluentinc/cp-kafka:8.0.0";
    public static final String SCHEMA_REGISTRY = "confluentinc/cp-schema-registry:8.0.0";

    private ConfluentImages() {}
}
