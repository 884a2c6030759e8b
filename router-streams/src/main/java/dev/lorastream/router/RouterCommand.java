package dev.lorastream.router;

import dev.lorastream.schemas.cli.ConnectionOptions;
import dev.lorastream.schemas.cli.Port;
import dev.lorastream.schemas.cli.MembershipOptions;
import dev.lorastream.schemas.cli.Setting;
import dev.lorastream.schemas.cli.SettingDefaults;
import dev.lorastream.schemas.cli.Settings;
import dev.lorastream.schemas.metrics.PrometheusEndpoint;
import dev.lorastream.schemas.ops.GroupMembership;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * {@code router}: the router until SIGTERM, with its placement meters on /metrics; exit status 1
 * when Kafka Streams fails or the router cannot start, 2 for a bad command line or setting. The same
 * command is {@code ./pipeline router} and {@link RouterMain}; the launcher adds what it does
 * {@link #RouterCommand(Consumer) before the router starts}.
 */
@Command(name = "router", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the router against an existing cluster until SIGTERM.",
                "Reads the requests on inference.requests, answers those it refuses with an error and places each of the others "
                + "on the partition of a worker, on inference.requests.routed, exactly once. Serves its placement meters on /metrics."})
public final class RouterCommand implements Callable<Integer>, SettingDefaults {
    private static final SettingDefaults DEFAULTS = SettingDefaults.of(RouterConfig.configDef());

    @Spec CommandSpec spec;

    @Mixin ConnectionOptions connection;

    @Option(names = "--placement", paramLabel = "load-aware|hash",
            description = "load-aware: each adapter's requests go to a worker that holds it and has room, by the workers' heartbeats "
                    + "(hashing while no worker reports); hash: murmur2 of the adapter id (default: ${DEFAULT-VALUE})")
    @Setting(RouterConfig.PLACEMENT)
    String placement;

    @Option(names = "--worker-timeout-ms", paramLabel = "MS",
            description = "a worker whose last heartbeat is older than this (or than three of its own heartbeat intervals) is gone "
                    + "for placement (default: ${DEFAULT-VALUE})")
    @Setting(RouterConfig.WORKER_TIMEOUT_MS)
    String workerTimeoutMs;

    @Option(names = "--busy-at", paramLabel = "REQUESTS_PER_ROW",
            description = "requests per row of a worker's forward pass at which load-aware placement counts it busy and looks "
                    + "elsewhere (default: ${DEFAULT-VALUE})")
    @Setting(RouterConfig.BUSY_AT)
    String busyAt;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Kafka Streams state directory (default: ${DEFAULT-VALUE})")
    @Setting(RouterConfig.STATE_DIR)
    String stateDir;

    @Option(names = "--application-id", paramLabel = "ID",
            description = "Kafka Streams application id: consumer group, transactional id prefix and state directory name "
                    + "(default: ${DEFAULT-VALUE})")
    @Setting(RouterConfig.APPLICATION_ID)
    String applicationId;

    @Option(names = "--instance-id", paramLabel = "ID",
            description = "stable id of this router instance: its stream threads are static group members under <ID>-<thread>, so a "
                    + "restart within the session timeout gets its partitions back without a rebalance; '" + GroupMembership.DYNAMIC
                    + "' for dynamic membership (default: host name and state directory)")
    @Setting(RouterConfig.INSTANCE_ID)
    String instanceId;

    @Mixin MembershipOptions membership = new MembershipOptions(DEFAULTS);

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "9401", converter = Port.class,
            description = "port of the /metrics endpoint (placement meters); 0 picks a free one (default: ${DEFAULT-VALUE})")
    int metricsPort;

    @Option(names = "--metrics-host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "address the /metrics endpoint binds: loopback unless told otherwise (0.0.0.0 for every interface, as in a container) (default: ${DEFAULT-VALUE})")
    String metricsHost;

    private final Consumer<RouterConfig> beforeStart;

    public RouterCommand() { this(config -> {}); }

    /** @param beforeStart called with the configuration before the router starts (the launcher: topics and subjects) */
    public RouterCommand(Consumer<RouterConfig> beforeStart) {
        this.beforeStart = Objects.requireNonNull(beforeStart);
    }

    /** The configuration the parsed command line describes. */
    public RouterConfig config() {
        connection.require();
        Map<String, Object> props = Settings.of(spec);
        return Settings.build(spec, props, RouterConfig::new);
    }

    /** The address the /metrics endpoint binds. */
    public String metricsHost() { return metricsHost; }

    /** The port the /metrics endpoint is asked to listen on. */
    public int metricsPort() { return metricsPort; }

    @Override
    public Integer call() throws InterruptedException {
        RouterConfig config = config();
        PrintWriter out = spec.commandLine().getOut();
        beforeStart.accept(config);
        RouterApp app = new RouterApp(config);
        PrometheusEndpoint metrics;
        try {
            metrics = new PrometheusEndpoint(metricsHost, metricsPort, app::prometheusText);
        } catch (RuntimeException e) {
            app.close();
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            metrics.close();
            app.close();
        }, "router-shutdown"));
        try {
            app.start();
        } catch (IllegalStateException e) {
            spec.commandLine().getErr().println("router: " + e.getMessage());
            metrics.close();
            app.close();
            return 1;
        }
        metrics.start();
        out.println("router: running against " + config.bootstrapServers() + " and " + config.schemaRegistryUrl() + ", placed by "
                + app.placement() + "; metrics on port " + metrics.port() + " (/metrics)");
        out.flush();
        if (app.awaitTermination() == KafkaStreams.State.ERROR) {
            spec.commandLine().getErr().println("router: Kafka Streams failed; see the log above");
            return 1;
        }
        return 0;
    }

    @Override
    public String defaultOf(String key) { return DEFAULTS.defaultOf(key); }
}
