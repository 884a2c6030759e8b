package dev.lorastream.launcher;

import dev.lorastream.router.RouterCommand;
import dev.lorastream.router.RouterConfig;
import dev.lorastream.sink.SinkCommand;
import dev.lorastream.worker.WorkerCommand;
import dev.lorastream.worker.WorkerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The ./pipeline command tree without Kafka: help, usage errors, and options reaching the settings they are for. */
class PipelineTest {
    /** Every option each command had before the picocli tree (Pipeline.COMMANDS, SubmitOptions, GenerateCommand, the mains). */
    private static final Map<String, List<String>> OPTIONS = Map.of(
            "demo", List.of("--bootstrap-servers", "--schema-registry", "--work-dir", "--model", "--adapters", "--http-port", "--partitions",
                    "--metrics-port", "--adapter-device-bytes", "--adapter-host-bytes", "--adapter-eviction-policy", "--precision", "--tf32",
                    "--graph", "--kv-capacity", "--cuda-graphs", "--bank-rank", "--bank-targets"),
            "up", List.of("--bootstrap-servers", "--schema-registry", "--work-dir", "--model", "--adapters", "--http-port", "--kafka-port",
                    "--registry-port", "--partitions", "--metrics-port", "--adapter-device-bytes", "--adapter-host-bytes",
                    "--adapter-eviction-policy", "--precision", "--tf32", "--graph", "--kv-capacity", "--cuda-graphs", "--bank-rank", "--bank-targets"),
            "router", List.of("--bootstrap-servers", "--schema-registry", "--state-dir", "--placement", "--worker-timeout-ms", "--busy-at",
                    "--metrics-port", "--application-id"),
            "worker", List.of("--bootstrap-servers", "--schema-registry", "--model", "--adapters", "--worker-id", "--group-id", "--provider",
                    "--max-batch", "--metrics-port", "--metrics-host", "--engine", "--sim-adapters", "--sim-device-slots", "--sim-host-slots", "--sim-time-scale",
                    "--adapter-device-bytes", "--adapter-host-bytes", "--adapter-eviction-policy", "--precision", "--tf32", "--graph",
                    "--kv-capacity", "--cuda-graphs", "--bank-rank", "--bank-targets", "--set"),
            "sink", List.of("--bootstrap-servers", "--schema-registry", "--data-dir", "--group-id", "--batch-size", "--flush-interval-ms", "--no-parquet"),
            "http", List.of("--bootstrap-servers", "--schema-registry", "--http-port"),
            "report", List.of("--data-dir", "--work-dir"),
            "platform", List.of("--work-dir", "--kafka-port", "--registry-port", "--partitions"),
            "submit", List.of("--bootstrap-servers", "--schema-registry", "--adapter", "--prompt", "--prompt-ids", "--max-new-tokens",
                    "--temperature", "--tenant", "--timeout-s"),
            "generate", List.of("--model", "--adapter", "--prompt", "--prompt-ids", "--max-new-tokens", "--ignore-eos"));

    @TempDir Path tmp;

    private final StringWriter out = new StringWriter(), err = new StringWriter();

    private int execute(Map<String, String> env, String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        return Pipeline.commandLine(env).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
    }

    /** The command object the arguments select, parsed. */
    private static <T> T parse(Map<String, String> env, String... args) {
        CommandLine.ParseResult parsed = Pipeline.commandLine(env).parseArgs(args);
        return parsed.subcommand().commandSpec().commandLine().getCommand();
    }

    @Test
    void pipeline_help_lists_every_command_and_the_benchmarks() {
        assertThat(execute(Map.of(), "--help")).isZero();
        assertThat(out.toString()).contains("Usage: pipeline", "bench-cpu", "bench-fleet");
        for (String command : List.of("demo", "up", "platform", "submit", "report", "generate", "router", "worker", "sink", "http", "adapters", "help")) {
            assertThat(out.toString()).containsPattern("(?m)^  " + command + " ");
        }
        assertThat(execute(Map.of(), "help")).isZero();
        assertThat(out.toString()).contains("Usage: pipeline");
        assertThat(execute(Map.of(), "help", "worker")).isZero();
        assertThat(out.toString()).contains("Usage: pipeline worker", "--precision");
    }

    @Test
    void every_command_has_help_listing_its_options_the_old_ones_included() {
        CommandLine tree = Pipeline.commandLine(Map.of());
        assertThat(tree.getSubcommands().keySet()).containsAll(OPTIONS.keySet());
        for (Map.Entry<String, List<String>> command : OPTIONS.entrySet()) {
            assertThat(execute(Map.of(), command.getKey(), "--help")).as(command.getKey()).isZero();
            String help = out.toString();
            assertThat(help).startsWith("Usage: pipeline " + command.getKey());
            for (String option : command.getValue()) assertThat(help).as("%s --help", command.getKey()).contains(option);
            for (CommandLine.Model.OptionSpec option : tree.getSubcommands().get(command.getKey()).getCommandSpec().options()) {
                assertThat(help).as("%s --help", command.getKey()).contains(option.longestName());
            }
        }
    }

    @Test
    void help_shows_each_commands_own_defaults() {
        execute(Map.of(), "up", "--help");
        assertThat(out.toString()).contains("--http-port=PORT", "(default: 8000)", "(default: 9092)", "(default: 8081)", "(default: 9400)",
                "(default: " + WorkerConfig.defaultOf("engine.precision") + ")");
        execute(Map.of(), "demo", "--help");
        assertThat(out.toString()).contains("(default: 0)").doesNotContain("(default: 8000)");
        execute(Map.of(), "router", "--help");
        assertThat(out.toString()).contains("(default: " + RouterConfig.of("b:1", "http://r").busyAt() + ")", "(default: 9401)");
        execute(Map.of(), "http", "--help");
        assertThat(out.toString()).contains("(default: 8000)");
    }

    @Test
    void usage_errors_exit_2_naming_what_is_wrong() {
        assertThat(execute(Map.of())).isEqualTo(2);
        assertThat(err.toString()).contains("Usage: pipeline");
        assertThat(execute(Map.of(), "nonsense")).isEqualTo(2);
        assertThat(err.toString()).contains("pipeline: unknown command 'nonsense'");
        assertThat(execute(Map.of(), "up", "--nope")).isEqualTo(2);
        assertThat(err.toString()).contains("pipeline up: Unknown option: '--nope'", "See 'pipeline up --help'.");
        assertThat(execute(Map.of(), "router")).isEqualTo(2);
        assertThat(err.toString()).contains("pipeline router: needs --bootstrap-servers and --schema-registry");
        assertThat(execute(Map.of(), "router", "--bootstrap-servers", "b:1", "--schema-registry", "http://r", "--busy-at", "abc")).isEqualTo(2);
        assertThat(err.toString()).contains("pipeline router: --busy-at: ", "router.placement.busy.at");
        assertThat(execute(Map.of(), "http", "--bootstrap-servers", "b:1", "--schema-registry", "http://r", "--http-port", "eighty")).isEqualTo(2);
        assertThat(err.toString()).contains("pipeline http: --http-port: ", "http.port");
        assertThat(execute(Map.of(), "up", "--http-port", "70000")).isEqualTo(2);
        assertThat(err.toString()).contains("Invalid value for option '--http-port': 70000 is not a port");
        assertThat(execute(Map.of(), "demo", "--partitions", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--partitions must be in [1, 1024], got 0");
        assertThat(execute(Map.of(), "report", "--data-dir", tmp.resolve("none").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("no sink data in");
        // a caller account that cannot be made is refused before a broker is started (nothing is written to the work folder)
        Path platformDir = tmp.resolve("platform-refused");
        assertThat(execute(Map.of(), "platform", "--work-dir", platformDir.toString(), "--secure", "--caller", "Mallory!")).isEqualTo(2);
        assertThat(err.toString()).contains("--caller: caller name 'Mallory!' must match");
        assertThat(execute(Map.of(), "platform", "--work-dir", platformDir.toString(), "--secure", "--caller", "pipeline")).isEqualTo(2);
        assertThat(err.toString()).contains("caller name 'pipeline'", "not be admin, pipeline, controller or a component");
        assertThat(execute(Map.of(), "platform", "--work-dir", platformDir.toString(), "--secure", "--caller", "worker")).isEqualTo(2);
        assertThat(err.toString()).contains("caller name 'worker'", "a component (router, worker, sink, http)");
        assertThat(execute(Map.of(), "platform", "--work-dir", platformDir.toString(), "--caller", "bob")).isEqualTo(2);
        assertThat(err.toString()).contains("--caller needs --secure");
        assertThat(platformDir).doesNotExist();
        assertThat(execute(Map.of(), "http", "--bootstrap-servers", "b:1", "--schema-registry", "http://r", "--model", tmp.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--model and --adapters go together");
        assertThat(execute(Map.of(), "http", "--bootstrap-servers", "b:1", "--schema-registry", "http://r", "--model", tmp.toString(),
                "--adapters", tmp.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--model: no backbone at " + tmp);
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void an_existing_cluster_needs_both_bootstrap_servers_and_registry_and_a_model_its_adapters() {
        assertThat(execute(Map.of(), "up", "--bootstrap-servers", "b:1")).isEqualTo(2);
        assertThat(err.toString()).contains("--bootstrap-servers and --schema-registry go together");
        assertThat(execute(Map.of(), "up", "--model", "/m")).isEqualTo(2);
        assertThat(err.toString()).contains("--model and --adapters go together");
    }

    @Test
    void demo_defaults_to_free_ports_and_up_to_the_documented_ones() {
        StackSettings demo = PipelineTest.<DemoCommand>parse(Map.of(), "demo").settings();
        StackSettings up = PipelineTest.<UpCommand>parse(Map.of(), "up").settings();
        assertThat(demo.embedded()).isTrue();
        assertThat(demo.httpPort()).isZero();
        assertThat(demo.metricsPort()).isZero();
        assertThat(demo.partitions()).isEqualTo(4);
        assertThat(up.httpPort()).isEqualTo(8000);
        assertThat(up.kafkaPort()).isEqualTo(9092);
        assertThat(up.registryPort()).isEqualTo(8081);
        assertThat(up.metricsPort()).isEqualTo(9400);
        assertThat(up.workDir().getFileName()).hasToString("up");
        assertThat(demo.workDir().getFileName()).hasToString("demo");
    }

    @Test
    void up_writes_the_demo_models_inside_the_work_dir_it_is_given() {
        Path work = tmp.resolve("stack");
        StackSettings up = PipelineTest.<UpCommand>parse(Map.of(), "up", "--work-dir", work.toString()).settings();

        assertThat(up.workDir()).isEqualTo(work.toAbsolutePath());
        assertThat(up.modelDir()).as("no --model: the demo models").isNull();
        assertThat(up.demoModels()).startsWithRaw(work.toAbsolutePath()).isEqualTo(work.toAbsolutePath().resolve("models"));
        assertThat(PipelineTest.<DemoCommand>parse(Map.of(), "demo", "--work-dir", work.toString()).settings().demoModels()).startsWithRaw(work.toAbsolutePath());
    }

    @Test
    void stack_options_come_from_the_environment_and_engine_options_become_worker_settings() throws Exception {
        Path model = Files.createDirectories(tmp.resolve("m")), adapters = Files.createDirectories(tmp.resolve("a"));
        StackSettings up = PipelineTest.<UpCommand>parse(Map.of("LORASTREAM_HTTP_PORT", "81", "LORASTREAM_PRECISION", "fp16"),
                "up", "--bootstrap-servers", "b:1", "--schema-registry", "http://r", "--model", model.toString(), "--adapters", adapters.toString(),
                "--tf32", "on", "--adapter-eviction-policy", "lru", "--adapter-device-bytes", "64MiB").settings();
        assertThat(up.embedded()).isFalse();
        assertThat(up.httpPort()).isEqualTo(81);

        WorkerConfig config = Components.workerConfig(new Connection("b:1", "http://r"), up.modelDir(), up.adapterDir(), "worker-1", up.workerSettings());
        assertThat(config.engineConfig().precision()).isEqualTo("fp16");
        assertThat(config.engineConfig().tf32()).isTrue();
        assertThat(config.cacheConfig().evictionPolicy()).isEqualTo("lru");
        assertThat(config.cacheConfig().deviceBytes()).isEqualTo(64L << 20);
        assertThat(config.workerId()).isEqualTo("worker-1");
    }

    @Test
    void worker_options_become_the_worker_config() throws Exception {
        Path model = Files.createDirectories(tmp.resolve("m")), adapters = Files.createDirectories(tmp.resolve("a"));
        WorkerConfig config = PipelineTest.<WorkerCommand>parse(Map.of("LORASTREAM_BOOTSTRAP_SERVERS", "b:1", "LORASTREAM_SCHEMA_REGISTRY", "http://r"),
                "worker", "--model", model.toString(), "--adapters", adapters.toString(), "--precision", "fp16", "--max-batch", "8",
                "--provider", "cuda", "--adapter-host-bytes", "1GiB").config();

        assertThat(config.engineConfig().precision()).isEqualTo("fp16");
        assertThat(config.maxBatchSize()).isEqualTo(8);
        assertThat(config.executionProvider()).isEqualTo("cuda");
        assertThat(config.cacheConfig().hostBytes()).isEqualTo(1L << 30);
        assertThat(config.bootstrapServers()).isEqualTo("b:1");

        assertThat(execute(Map.of(), "worker", "--bootstrap-servers", "b:1", "--schema-registry", "http://r", "--model", model.toString(),
                "--adapters", adapters.toString(), "--precision", "int4")).isEqualTo(2);
        assertThat(err.toString()).contains("pipeline worker: --precision: ", "engine.precision");
    }

    @Test
    void router_and_sink_options_become_their_configs() {
        RouterConfig router = PipelineTest.<RouterCommand>parse(Map.of(), "router", "--bootstrap-servers", "b:1", "--schema-registry", "http://r",
                "--placement", "hash", "--busy-at", "0.5", "--state-dir", tmp.toString()).config();
        assertThat(router.loadAwarePlacement()).isFalse();
        assertThat(router.busyAt()).isEqualTo(0.5);
        assertThat(router.stateDir()).isEqualTo(tmp);

        var sink = PipelineTest.<SinkCommand>parse(Map.of("LORASTREAM_DATA_DIR", tmp.toString()), "sink", "--bootstrap-servers", "b:1",
                "--schema-registry", "http://r").config();
        assertThat(sink.dataDir()).isEqualTo(tmp);
    }

    @Test
    void http_options_become_the_endpoints_config() {
        HttpCommand http = parse(Map.of("LORASTREAM_HTTP_PORT", "8123"), "http", "--bootstrap-servers", "b:1", "--schema-registry", "http://r");
        assertThat(http.config().port()).isEqualTo(8123);
    }

    @Test
    void every_interface_without_api_keys_is_refused_at_start_naming_the_option() {
        assertThat(execute(Map.of(), "http", "--bootstrap-servers", "b:1", "--schema-registry", "http://r", "--http-host", "0.0.0.0")).isEqualTo(2);
        assertThat(err.toString()).contains("pipeline http: --http-host: http.host '0.0.0.0' is not a loopback address and no API keys are configured");
        assertThat(execute(Map.of(), "up", "--http-host", "0.0.0.0")).isEqualTo(2);
        assertThat(err.toString()).contains("pipeline up: --http-host: http.host '0.0.0.0' is not a loopback address");

        Path keys = tmp.resolve("keys");
        HttpCommand http = parse(Map.of("LORASTREAM_KEYS_FILE", keys.toString()), "http", "--bootstrap-servers", "b:1", "--schema-registry", "http://r",
                "--http-host", "0.0.0.0", "--rate-limit-rps", "2", "--rate-limit-tpm", "6000");
        assertThat(http.config().keysFile()).isEqualTo(keys);
        assertThat(http.config().rateLimitRps()).isEqualTo(2.0);
        assertThat(http.config().rateLimitTpm()).isEqualTo(6000L);
        StackSettings up = PipelineTest.<UpCommand>parse(Map.of(), "up", "--http-host", "0.0.0.0", "--keys-file", keys.toString(),
                "--rate-limit-tpm", "100").settings();
        assertThat(up.httpConfig().host()).isEqualTo("0.0.0.0");
        assertThat(up.httpConfig().keysFile()).isEqualTo(keys);
        assertThat(up.httpConfig().rateLimitTpm()).isEqualTo(100L);
        assertThat(up.workerSettings()).as("not worker settings").doesNotContainKeys("http.keys.file", "http.host");
        assertThat(PipelineTest.<UpCommand>parse(Map.of(), "up").settings().httpConfig().host()).isEqualTo("127.0.0.1");
    }

    @Test
    void the_router_metrics_bind_loopback_unless_told_otherwise() {
        RouterCommand router = parse(Map.of(), "router", "--bootstrap-servers", "b:1", "--schema-registry", "http://r");
        assertThat(router.metricsHost()).isEqualTo("127.0.0.1");
        assertThat(PipelineTest.<RouterCommand>parse(Map.of("LORASTREAM_METRICS_HOST", "0.0.0.0"), "router", "--bootstrap-servers", "b:1",
                "--schema-registry", "http://r").metricsHost()).isEqualTo("0.0.0.0");
    }
}
