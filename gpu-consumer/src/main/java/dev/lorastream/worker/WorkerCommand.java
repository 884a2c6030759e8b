package dev.lorastream.worker;

import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.schemas.cli.ConnectionOptions;
import dev.lorastream.schemas.cli.Port;
import dev.lorastream.schemas.cli.MembershipOptions;
import dev.lorastream.schemas.cli.Setting;
import dev.lorastream.schemas.cli.SettingDefaults;
import dev.lorastream.schemas.cli.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.BiConsumer;

/**
 * {@code worker}: one worker until SIGTERM. Opens the engine (ONNX Runtime backbone and adapters, or
 * the simulated one), starts the {@link Worker} and its /metrics endpoint and, on shutdown, stops it
 * after the work in progress. Exit status 2 for a bad command line or setting, 1 when the worker
 * could not start or stopped on a failure (fenced by a newer instance, say). The same command is
 * {@code ./pipeline worker} and {@link WorkerMain} (the GPU bundle's {@code bin/worker}); the launcher
 * adds what it does {@link #WorkerCommand(BiConsumer) before the worker starts}.
 */
@Command(name = "worker", mixinStandardHelpOptions = true, sortOptions = false, modelTransformer = WorkerCommand.SetKeys.class,
        description = {"Run one worker against an existing cluster until SIGTERM.",
                "Consumes its partitions of inference.requests.routed, runs the requests on the engine (ONNX Runtime backbone and "
                + "LoRA adapters, or --engine sim), answers and attributes each exactly once, heartbeats on workers.status and "
                + "serves /metrics."})
public final class WorkerCommand implements Callable<Integer>, SettingDefaults {
    private static final Logger log = LoggerFactory.getLogger(WorkerCommand.class);

    @Spec CommandSpec spec;

    @Mixin ConnectionOptions connection;

    @Option(names = "--engine", paramLabel = "onnx|sim",
            description = "onnx: the real engine on ONNX Runtime; sim: a simulated engine (a cost model calibrated from H200 measurements, "
                    + "no model), labelled simulated in its heartbeats and metrics (default: ${DEFAULT-VALUE})")
    @Setting("engine")
    String engineKind;

    @Option(names = "--model", paramLabel = "DIR", description = "backbone model directory (needed with --engine onnx)")
    @Setting("model.dir")
    String model;

    @Option(names = "--adapters", paramLabel = "DIR", description = "directory holding one folder per PEFT adapter (needed with --engine onnx)")
    @Setting("adapter.dir")
    String adapters;

    @Option(names = "--worker-id", paramLabel = "ID",
            description = "this worker's id, the key of its heartbeats; give a stable one so that a restart fences its predecessor "
                    + "(default: host name and process id)")
    @Setting("worker.id")
    String workerId;

    @Option(names = "--group-id", paramLabel = "ID", description = "consumer group shared by the workers of one deployment (default: ${DEFAULT-VALUE})")
    @Setting("group.id")
    String groupId;

    @Option(names = "--membership", paramLabel = "static|dynamic",
            description = "static: a static member of the group under the worker id (a restart with the same --worker-id within the session "
                    + "timeout gets its partitions back without a rebalance); dynamic: an anonymous member (default: ${DEFAULT-VALUE})")
    @Setting("group.membership")
    String membership;

    @Mixin MembershipOptions groupOptions = new MembershipOptions(WorkerConfig::defaultOf);

    @Option(names = "--watchdog-interval-ms", paramLabel = "MS",
            description = "how often the transaction watchdog looks for transactions that stall read_committed readers of the pipeline's "
                    + "topics (hanging after a broker crash, or held by a frozen producer) and aborts them; 0 disables it (default: ${DEFAULT-VALUE})")
    @Setting("transaction.watchdog.interval.ms")
    String watchdogIntervalMs;

    @Option(names = "--watchdog-max-open-ms", paramLabel = "MS",
            description = "a transaction the watchdog sees open longer than this is aborted; must exceed transaction.timeout.ms, "
                    + "keep it well above every pipeline producer's; 0 disables the watchdog (default: ${DEFAULT-VALUE})")
    @Setting("transaction.watchdog.max.open.ms")
    String watchdogMaxOpenMs;

    @Option(names = "--provider", paramLabel = "cpu|cuda", description = "ONNX Runtime execution provider (default: ${DEFAULT-VALUE})")
    @Setting("execution.provider")
    String provider;

    @Option(names = "--max-batch", paramLabel = "N", description = "most requests in one forward pass: the rows of the running batch (default: ${DEFAULT-VALUE})")
    @Setting("max.batch.size")
    String maxBatch;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "9400", converter = Port.class,
            description = "port of the /metrics endpoint (Prometheus text); 0 picks a free one (default: ${DEFAULT-VALUE})")
    int metricsPort;

    @Option(names = "--metrics-host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "address the /metrics endpoint binds: loopback unless told otherwise (0.0.0.0 for every interface, as in a container) (default: ${DEFAULT-VALUE})")
    String metricsHost;

    @Mixin EngineOptions engine;

    @Mixin CacheOptions cache;

    @Option(names = "--sim-adapters", paramLabel = "N", description = "--engine sim: adapters its store holds (default: ${DEFAULT-VALUE})")
    @Setting("sim.adapters")
    String simAdapters;

    @Option(names = "--sim-device-slots", paramLabel = "N", description = "--engine sim: device bank slots (default: ${DEFAULT-VALUE})")
    @Setting("sim.device.slots")
    String simDeviceSlots;

    @Option(names = "--sim-host-slots", paramLabel = "N", description = "--engine sim: adapters the host tier holds (default: ${DEFAULT-VALUE})")
    @Setting("sim.host.slots")
    String simHostSlots;

    @Option(names = "--sim-time-scale", paramLabel = "X",
            description = "--engine sim: every simulated duration times this (a fleet on a small machine runs slower than the GPU would) "
                    + "(default: ${DEFAULT-VALUE})")
    @Setting("sim.time.scale")
    String simTimeScale;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "any worker setting, by its key (listed below); applied after the options above (repeatable)")
    Map<String, String> set = new LinkedHashMap<>();

    private final BiConsumer<WorkerConfig, InferenceEngine> beforeStart;

    public WorkerCommand() { this((config, engine) -> {}); }

    /** @param beforeStart called with the open engine before the worker starts (the launcher: topics, subjects, adapter catalog) */
    public WorkerCommand(BiConsumer<WorkerConfig, InferenceEngine> beforeStart) {
        this.beforeStart = Objects.requireNonNull(beforeStart);
    }

    /** The configuration the parsed command line describes: the options, then the {@code --set} keys. */
    public WorkerConfig config() {
        Map<String, Object> props = Settings.of(spec);
        props.putAll(set);
        return Settings.build(spec, props, WorkerConfig::from);
    }

    /** The port the /metrics endpoint is asked to listen on. */
    public int metricsPort() { return metricsPort; }

    @Override
    public Integer call() throws InterruptedException {
        WorkerConfig config = config();
        PrintWriter out = spec.commandLine().getOut();
        InferenceEngine engine = EngineFactory.open(config);
        Worker worker;
        MetricsEndpoint metrics;
        try {
            beforeStart.accept(config, engine);
            worker = new Worker(config, engine);
            metrics = new MetricsEndpoint(metricsHost, metricsPort, worker.metrics(), engine);
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
        CountDownLatch shutdownDone = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("shutdown requested; stopping worker {}", config.workerId());
            metrics.close();
            worker.close();
            engine.close();
            shutdownDone.countDown();
        }, "lorastream-worker-shutdown"));
        try {
            worker.start();
        } catch (IllegalStateException e) {
            log.error("{}", e.getMessage());
            return 1;
        }
        metrics.start();
        out.println("worker " + config.workerId() + ": running against " + config.bootstrapServers() + " and " + config.schemaRegistryUrl()
                + "; metrics on port " + metrics.port() + " (/metrics)");
        out.flush();
        while (!worker.awaitStop(Duration.ofSeconds(1))) {
            // running until SIGTERM (the shutdown hook closes it) or until it ends on its own
        }
        if (shutdownDone.getCount() > 0 && worker.failure().isPresent()) {
            log.error("worker {} stopped: {}", config.workerId(), worker.failure().get().toString());
            return 1;
        }
        shutdownDone.await();
        return 0;
    }

    @Override
    public String defaultOf(String key) { return WorkerConfig.defaultOf(key); }

    /** Lists the keys {@code --set} takes below the options. */
    public static final class SetKeys implements IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec spec) {
            List<String> footer = new ArrayList<>(Arrays.asList(spec.usageMessage().footer()));
            footer.add("%nKeys of --set (WorkerConfig):");
            StringBuilder line = new StringBuilder(" ");
            for (ConfigKey<?> key : WorkerConfig.KEYS) { // lines of whole keys: the help would break them at their dots
                if (line.length() + key.name().length() > 88) {
                    footer.add(line.toString());
                    line = new StringBuilder(" ");
                }
                line.append(' ').append(key.name());
            }
            footer.add(line.toString());
            spec.usageMessage().footer(footer.toArray(String[]::new));
            return spec;
        }
    }
}
