package dev.lorastream.sink;

import dev.lorastream.schemas.cli.ConnectionOptions;
import dev.lorastream.schemas.ops.GroupMembership;
import dev.lorastream.schemas.cli.MembershipOptions;
import dev.lorastream.schemas.cli.Setting;
import dev.lorastream.schemas.cli.SettingDefaults;
import dev.lorastream.schemas.cli.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@code sink}: one attribution sink until the process is stopped; exit status 1 when the sink
 * stops on a failure, 2 for a bad command line or setting. The same command is
 * {@code ./pipeline sink} and {@link SinkMain}; the launcher adds what it does
 * {@link #SinkCommand(Consumer) before the sink starts}.
 */
@Command(name = "sink", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the attribution sink against an existing cluster until SIGTERM.",
                "Writes every attribution event to DuckDB (and Parquet files), exactly once; ./pipeline report reads them."})
public final class SinkCommand implements Callable<Integer>, SettingDefaults {
    private static final SettingDefaults DEFAULTS = SettingDefaults.of(SinkConfig.DEFINITION);

    @Spec CommandSpec spec;

    @Mixin ConnectionOptions connection;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "directory of the DuckDB file (attribution.duckdb) and the Parquet files; created if missing (default: ${DEFAULT-VALUE})")
    @Setting(SinkConfig.DATA_DIR)
    String dataDir;

    @Option(names = "--group-id", paramLabel = "ID",
            description = "consumer group; sink instances of one group share the topic's partitions (default: ${DEFAULT-VALUE})")
    @Setting(SinkConfig.GROUP_ID)
    String groupId;

    @Option(names = "--batch-size", paramLabel = "N", description = "records written in one DuckDB transaction at most (default: ${DEFAULT-VALUE})")
    @Setting(SinkConfig.BATCH_SIZE)
    String batchSize;

    @Option(names = "--flush-interval-ms", paramLabel = "MS",
            description = "longest a consumed record waits before its batch is written and its offset committed (default: ${DEFAULT-VALUE})")
    @Setting(SinkConfig.FLUSH_INTERVAL_MS)
    String flushIntervalMs;

    @Option(names = "--instance-id", paramLabel = "ID",
            description = "stable id of this sink instance: a static group member under it, so a restart within the session timeout gets "
                    + "its partitions back without a rebalance; '" + GroupMembership.DYNAMIC + "' for dynamic membership (default: host name and data directory)")
    @Setting(SinkConfig.INSTANCE_ID)
    String instanceId;

    @Mixin MembershipOptions membership = new MembershipOptions(DEFAULTS);

    @Option(names = "--no-parquet", description = "write DuckDB only, no Parquet files (the report then cannot read a running sink's data)")
    boolean noParquet;

    private final Consumer<SinkConfig> beforeStart;

    public SinkCommand() { this(config -> {}); }

    /** @param beforeStart called with the configuration before the sink starts (the launcher: topics and subjects) */
    public SinkCommand(Consumer<SinkConfig> beforeStart) {
        this.beforeStart = Objects.requireNonNull(beforeStart);
    }

    /** The configuration the parsed command line describes. */
    public SinkConfig config() {
        connection.require();
        Map<String, Object> props = Settings.of(spec);
        if (noParquet) props.put(SinkConfig.PARQUET_EXPORT, false);
        return Settings.build(spec, props, SinkConfig::from);
    }

    @Override
    public Integer call() throws InterruptedException {
        SinkConfig config = config();
        beforeStart.accept(config);
        AttributionSink sink = new AttributionSink(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            sink.close();
            stopped.countDown();
        }, "attribution-sink-shutdown"));
        sink.start();
        spec.commandLine().getOut().println("sink: running against " + config.bootstrapServers() + " and " + config.schemaRegistryUrl()
                + "; attribution.events -> " + config.dataDir());
        spec.commandLine().getOut().flush();
        while (sink.isRunning()) {
            if (stopped.await(1, TimeUnit.SECONDS)) return 0;
        }
        if (sink.failure().isPresent()) {
            spec.commandLine().getErr().println("attribution sink failed: " + sink.failure().get());
            sink.close();
            return 1;
        }
        return 0;
    }

    @Override
    public String defaultOf(String key) { return DEFAULTS.defaultOf(key); }
}
