package dev.lorastream.platform;

import dev.lorastream.platform.internal.BrokerConfig;
import dev.lorastream.platform.internal.FreePorts;
import dev.lorastream.platform.internal.KafkaVersion;
import dev.lorastream.platform.internal.StateFile;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A single-node Kafka (KRaft, broker and controller in one) running in this JVM.
 *
 * <p>Everything lives under a work directory: the log data in {@code data/}, and next to it
 * {@code broker.state} with the cluster id and the ports, so that {@link #stop()} then
 * {@link #start()} (or a new instance over the same directory) comes back as the same cluster,
 * with its topics and records, on the same port when that port is still free.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {
    public static final int DEFAULT_PARTITIONS = 4;
    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final Path workDir;
    private final int requestedPort;
    private final int partitions;
    private final Map<String, String> overrides;
    private final ClusterSecurity security;

    private KafkaRaftServer server;
    private String clusterId;
    private int port;
    private int controllerPort;

    /** A broker under {@code workDir} on a free port with {@value #DEFAULT_PARTITIONS} partitions per new topic. */
    public EmbeddedKafkaBroker(Path workDir) { this(workDir, 0, DEFAULT_PARTITIONS, Map.of()); }

    /** A broker under {@code workDir} on {@code port} (0: a free one) with {@code partitions} per new topic. */
    public EmbeddedKafkaBroker(Path workDir, int port, int partitions) { this(workDir, port, partitions, Map.of()); }

    /**
     * @param port       the PLAINTEXT port on 127.0.0.1; 0 picks a free one (the one of the last run when still free)
     * @param partitions {@code num.partitions} for topics created without an explicit count
     * @param overrides  server properties that replace the defaults of {@link BrokerConfig}
     */
    public EmbeddedKafkaBroker(Path workDir, int port, int partitions, Map<String, String> overrides) {
        this(workDir, port, partitions, overrides, null);
    }

    /**
     * As above; with {@code security} not null the listener takes SASL/SCRAM and ACLs decide (see {@link ClusterSecurity}).
     * A data directory keeps the mode it was first formatted in.
     */
    public EmbeddedKafkaBroker(Path workDir, int port, int partitions, Map<String, String> overrides, ClusterSecurity security) {
        this.security = security;
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535, got " + port);
        this.workDir = workDir.toAbsolutePath();
        this.requestedPort = port;
        this.partitions = partitions;
        this.overrides = Map.copyOf(overrides);
    }

    /** Formats the data directory on first use, starts the broker and waits until clients can use it. */
    public synchronized EmbeddedKafkaBroker start() {
        if (server != null) return this;
        long t0 = System.nanoTime();
        StateFile state = StateFile.load(stateFile());
        clusterId = clusterId(state);
        port = FreePorts.choose(requestedPort, port != 0 ? port : state.port("port"));
        controllerPort = FreePorts.choose(0, controllerPort != 0 ? controllerPort : state.port("controller.port"));
        String mode = security != null ? "sasl_scram" : "plaintext";
        String formattedMode = state.get("security") != null ? state.get("security") : "plaintext";
        if (Files.exists(dataDir().resolve("meta.properties")) && !formattedMode.equals(mode)) {
            throw new IllegalStateException("the broker data in " + dataDir() + " was made " + formattedMode + ", not " + mode
                    + ": its credentials are in its metadata log from the first start; use another work folder, or delete " + workDir);
        }
        state.set("cluster.id", clusterId).set("port", port).set("controller.port", controllerPort).set("security", mode)
                .save("embedded Kafka broker: cluster id, ports and security, reused on restart");

        Map<String, String> merged = new LinkedHashMap<>();
        if (security != null) merged.putAll(security.serverProperties(port, controllerPort));
        merged.putAll(overrides);
        Map<String, String> props = BrokerConfig.serverProperties(dataDir(), port, controllerPort, partitions, merged);
        Path propsFile = writeServerProperties(props);
        format(propsFile);

        KafkaRaftServer candidate = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
        try {
            candidate.startup();
            awaitReady();
        } catch (RuntimeException e) {
            halt(candidate);
            throw new IllegalStateException("embedded Kafka broker did not start on " + bootstrapServers()
                    + " (data " + dataDir() + "): " + e.getMessage(), e);
        }
        server = candidate;
        log.info("Kafka {} (KRaft) up at {} in {} ms, cluster id {}, data {}", KafkaVersion.get(),
                bootstrapServers(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), clusterId, dataDir());
        return this;
    }

    /** Shuts the broker down and waits for it; data and cluster id stay for a later {@link #start()}. */
    public synchronized void stop() {
        if (server == null) return;
        KafkaRaftServer running = server;
        server = null;
        halt(running);
        log.info("Kafka broker at {} stopped", bootstrapServers());
    }

    @Override
    public void close() { stop(); }

    public synchronized boolean isRunning() { return server != null; }

    /** {@code 127.0.0.1:PORT}; the port is known once the broker has been started. */
    public synchronized String bootstrapServers() { return "127.0.0.1:" + port; }

    public synchronized int port() { return port; }

    /** The cluster id, kept in {@code broker.state} next to the data; null before the first start. */
    public synchronized String clusterId() { return clusterId; }

    public Path workDir() { return workDir; }

    /** The SASL/SCRAM set-up, or null for a PLAINTEXT broker. */
    public ClusterSecurity security() { return security; }

    public Path dataDir() { return workDir.resolve("data"); }

    private Path stateFile() { return workDir.resolve("broker.state"); }

    /** The id from the state file, else from an already formatted log dir, else a new one. */
    private String clusterId(StateFile state) {
        String id = state.get("cluster.id");
        if (id != null && !id.isBlank()) return id.trim();
        Path meta = dataDir().resolve("meta.properties");
        if (Files.exists(meta)) {
            String formatted = StateFile.load(meta).get("cluster.id");
            if (formatted != null) return formatted.trim();
        }
        return Uuid.randomUuid().toString();
    }

    private Path writeServerProperties(Map<String, String> props) {
        Path file = workDir.resolve("server.properties");
        try {
            Files.createDirectories(dataDir());
            Properties p = new Properties();
            p.putAll(props);
            try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                p.store(out, "written by EmbeddedKafkaBroker on each start");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return file;
    }

    /** {@code kafka-storage format --ignore-formatted}: formats a new log dir, leaves a formatted one alone. */
    private void format(Path propsFile) {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        int rc;
        try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("format", "-t", clusterId, "-c", propsFile.toString(), "--ignore-formatted"));
            if (security != null) args.addAll(security.formatArguments());
            rc = StorageTool.execute(args.toArray(String[]::new), out);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot format " + dataDir() + " for cluster " + clusterId + ": " + e.getMessage()
                    + " (a data dir formatted for another cluster id? delete " + workDir + " to start afresh)", e);
        }
        if (rc != 0) {
            throw new IllegalStateException("formatting " + dataDir() + " for cluster " + clusterId + " failed (exit "
                    + rc + "): " + output.toString(StandardCharsets.UTF_8).trim());
        }
    }

    /** Waits until the broker answers a metadata request, i.e. it is registered and unfenced. */
    private void awaitReady() {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        if (security != null) config.putAll(security.clientSettings(ClusterSecurity.ADMIN));
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) READY_TIMEOUT.toMillis());
        try (Admin admin = Admin.create(config)) {
            String id = admin.describeCluster().clusterId().get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (!clusterId.equals(id)) {
                throw new IllegalStateException("broker reports cluster id " + id + ", expected " + clusterId);
            }
            admin.describeCluster().nodes().get(READY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (security != null) security.provisionComponents(admin); // each component's credential and ACLs
        } catch (ExecutionException e) {
            throw new IllegalStateException("broker not ready: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("broker not ready after " + READY_TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the broker", e);
        }
    }

    private static void halt(KafkaRaftServer s) {
        try {
            s.shutdown();
        } finally {
            s.awaitShutdown();
        }
    }
}
