package dev.lorastream.platform;

import dev.lorastream.platform.internal.KafkaVersion;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * An {@link EmbeddedKafkaBroker} in this JVM and an {@link ApicurioRegistry} child process, under one
 * work directory ({@code kafka/}, {@code registry/}). The registry starts while the broker does.
 */
public final class EmbeddedPlatform implements KafkaPlatform {
    private final EmbeddedKafkaBroker broker;
    private final ApicurioRegistry registry;

    private EmbeddedPlatform(EmbeddedKafkaBroker broker, ApicurioRegistry registry) {
        this.broker = broker;
        this.registry = registry;
    }

    /** Starts both on free ports (the previous run's when still free), Apicurio from {@code -Dapicurio.home}. */
    public static EmbeddedPlatform start(Path workDir) { return builder(workDir).start(); }

    /** Starts both on the given ports (0: a free one). */
    public static EmbeddedPlatform start(Path workDir, int brokerPort, int registryPort) {
        return builder(workDir).brokerPort(brokerPort).registryPort(registryPort).start();
    }

    public static Builder builder(Path workDir) { return new Builder(workDir); }

    @Override
    public String bootstrapServers() { return broker.bootstrapServers(); }

    @Override
    public String schemaRegistryUrl() { return registry.schemaRegistryUrl(); }

    @Override
    public String describe() {
        return "embedded: Kafka " + KafkaVersion.get() + " (KRaft, in-process) at " + broker.bootstrapServers()
                + ", cluster " + broker.clusterId() + ", data " + broker.dataDir()
                + "; Apicurio Registry at " + registry.schemaRegistryUrl() + ", log " + registry.logFile();
    }

    public EmbeddedKafkaBroker broker() { return broker; }

    public ApicurioRegistry registry() { return registry; }

    @Override
    public void close() {
        try {
            registry.close();
        } finally {
            broker.close();
        }
    }

    /** Ports (0: free-chosen), partitions, overrides and the Apicurio directory of an {@link EmbeddedPlatform}. */
    public static final class Builder {
        private final Path workDir;
        private int brokerPort;
        private int registryPort;
        private int registryManagementPort;
        private int partitions = EmbeddedKafkaBroker.DEFAULT_PARTITIONS;
        private final Map<String, String> brokerConfig = new LinkedHashMap<>();
        private Path apicurioHome;
        private Duration registryStartTimeout = ApicurioRegistry.DEFAULT_START_TIMEOUT;
        private boolean secured;

        private Builder(Path workDir) { this.workDir = workDir.toAbsolutePath(); }

        public Builder brokerPort(int port) { this.brokerPort = port; return this; }

        public Builder registryPort(int port) { this.registryPort = port; return this; }

        public Builder registryManagementPort(int port) { this.registryManagementPort = port; return this; }

        /** {@code num.partitions} of the broker (default {@value EmbeddedKafkaBroker#DEFAULT_PARTITIONS}). */
        public Builder partitions(int partitions) { this.partitions = partitions; return this; }

        /** A broker server property that replaces the default. */
        public Builder brokerConfig(String key, String value) { brokerConfig.put(key, value); return this; }

        /** The unpacked Apicurio Registry app (default: {@code -Dapicurio.home}). */
        public Builder apicurioHome(Path home) { this.apicurioHome = home; return this; }

        public Builder registryStartTimeout(Duration timeout) { this.registryStartTimeout = timeout; return this; }

        /** SASL/SCRAM and ACLs on the broker ({@link ClusterSecurity}, its files under {@code security/}). */
        public Builder secured(boolean secured) { this.secured = secured; return this; }

        /** Starts the registry (in the background) and the broker, and returns when both are ready. */
        public EmbeddedPlatform start() {
            ApicurioRegistry registry = new ApicurioRegistry(workDir.resolve("registry"), apicurioHome,
                    registryPort, registryManagementPort, registryStartTimeout);
            EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(workDir.resolve("kafka"), brokerPort, partitions, brokerConfig,
                    secured ? ClusterSecurity.in(workDir.resolve("security")) : null);
            CompletableFuture<ApicurioRegistry> registryStarted = CompletableFuture.supplyAsync(registry::start);
            try {
                broker.start();
                registryStarted.join();
            } catch (RuntimeException e) {
                RuntimeException failure = e instanceof CompletionException && e.getCause() instanceof RuntimeException r ? r : e;
                registryStarted.handle((r, t) -> null).join(); // let a start in progress finish before stopping it
                registry.close();
                broker.close();
                throw failure;
            }
            return new EmbeddedPlatform(broker, registry);
        }
    }
}
