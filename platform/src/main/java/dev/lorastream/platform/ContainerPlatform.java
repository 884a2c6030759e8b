package dev.lorastream.platform;

import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.kafka.ConfluentKafkaContainer;
import org.testcontainers.utility.DockerImageName;

import java.time.Duration;

/**
 * Confluent's Kafka (KRaft) and Schema Registry in containers on one Docker network, through
 * Testcontainers. Needs a Docker engine; the registry reaches the broker by its network alias.
 */
public final class ContainerPlatform implements KafkaPlatform {
    static final String KAFKA_ALIAS = "kafka";
    static final int KAFKA_INTERNAL_PORT = 19092;
    static final String REGISTRY_ALIAS = "schema-registry";
    static final int REGISTRY_PORT = 8081;

    private final Network network;
    private final ConfluentKafkaContainer kafka;
    private final GenericContainer<?> registry;

    private ContainerPlatform(Network network, ConfluentKafkaContainer kafka, GenericContainer<?> registry) {
        this.network = network;
        this.kafka = kafka;
        this.registry = registry;
    }

    /** Pulls (when needed) and starts the broker, then the registry; returns when the registry answers. */
    @SuppressWarnings("resource") // closed by close(), or below on failure
    public static ContainerPlatform start() {
        Network network = Network.newNetwork();
        ConfluentKafkaContainer kafka = new ConfluentKafkaContainer(DockerImageName.parse(ConfluentImages.KAFKA))
                .withNetwork(network)
                .withNetworkAliases(KAFKA_ALIAS)
                .withListener(KAFKA_ALIAS + ":" + KAFKA_INTERNAL_PORT)
                .withEnv("KAFKA_NUM_PARTITIONS", String.valueOf(EmbeddedKafkaBroker.DEFAULT_PARTITIONS))
                .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true")
                .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");
        GenericContainer<?> registry = new GenericContainer<>(DockerImageName.parse(ConfluentImages.SCHEMA_REGISTRY))
                .withNetwork(network)
                .withNetworkAliases(REGISTRY_ALIAS)
                .withExposedPorts(REGISTRY_PORT)
                .withEnv("SCHEMA_REGISTRY_HOST_NAME", REGISTRY_ALIAS)
                .withEnv("SCHEMA_REGISTRY_LISTENERS", "http://0.0.0.0:" + REGISTRY_PORT)
                .withEnv("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS", "PLAINTEXT://" + KAFKA_ALIAS + ":" + KAFKA_INTERNAL_PORT)
                .waitingFor(Wait.forHttp("/subjects").forPort(REGISTRY_PORT).forStatusCode(200)
                        .withStartupTimeout(Duration.ofMinutes(2)));
        try {
            kafka.start();
            registry.start();
        } catch (RuntimeException e) {
            registry.stop();
            kafka.stop();
            network.close();
            throw e;
        }
        return new ContainerPlatform(network, kafka, registry);
    }

    @Override
    public String bootstrapServers() { return kafka.getBootstrapServers(); }

    @Override
    public String schemaRegistryUrl() { return "http://" + registry.getHost() + ":" + registry.getMappedPort(REGISTRY_PORT); }

    @Override
    public String describe() {
        return "containers: " + ConfluentImages.KAFKA + " (KRaft) at " + bootstrapServers() + "; "
                + ConfluentImages.SCHEMA_REGISTRY + " at " + schemaRegistryUrl();
    }

    @Override
    public void close() {
        try {
            registry.stop();
            kafka.stop();
        } finally {
            network.close();
        }
    }
}
