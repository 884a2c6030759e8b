package dev.lorastream.worker;

import dev.lorastream.schemas.cli.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code worker} (./pipeline worker, WorkerMain, bin/worker): its options become the WorkerConfig; no Kafka. */
class WorkerCommandTest {
    @TempDir Path dir;

    private final StringWriter out = new StringWriter(), err = new StringWriter();

    private String[] args(String... more) throws Exception {
        Path model = Files.createDirectories(dir.resolve("m"));
        Path adapters = Files.createDirectories(dir.resolve("a"));
        List<String> all = new ArrayList<>(List.of("--bootstrap-servers", "h:1", "--schema-registry", "http://r:2",
                "--model", model.toString(), "--adapters", adapters.toString()));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private WorkerCommand parse(Map<String, String> env, String... args) {
        CommandLine cl = Cli.commandLine(new WorkerCommand(), env);
        cl.parseArgs(args);
        return cl.getCommand();
    }

    private int execute(String... args) {
        CommandLine cl = Cli.commandLine(new WorkerCommand(), Map.of()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    @Test
    void theOptionsBecomeTheWorkerConfig() throws Exception {
        WorkerConfig c = parse(Map.of(), args("--worker-id", "gpu-1", "--group-id", "g", "--max-batch", "8", "--provider", "cuda",
                "--precision", "fp16", "--tf32", "on", "--graph", "fused", "--kv-capacity", "512", "--cuda-graphs", "off",
                "--bank-rank", "16", "--bank-targets", "q_proj,v_proj", "--adapter-device-bytes", "64MiB", "--adapter-host-bytes", "1GiB",
                "--adapter-eviction-policy", "lru")).config();

        assertThat(c.bootstrapServers()).isEqualTo("h:1");
        assertThat(c.schemaRegistryUrl()).isEqualTo("http://r:2");
        assertThat(c.modelDir()).isEqualTo(dir.resolve("m"));
        assertThat(c.adapterDir()).isEqualTo(dir.resolve("a"));
        assertThat(c.workerId()).isEqualTo("gpu-1");
        assertThat(c.groupId()).isEqualTo("g");
        assertThat(c.maxBatchSize()).isEqualTo(8);
        assertThat(c.executionProvider()).isEqualTo("cuda");
        assertThat(c.engineConfig().precision()).isEqualTo("fp16");
        assertThat(c.engineConfig().tf32()).isTrue();
        assertThat(c.engineConfig().graph()).isEqualTo("fused");
        assertThat(c.engineConfig().kvCapacity()).isEqualTo(512);
        assertThat(c.engineConfig().cudaGraphs()).isFalse();
        assertThat(c.engineConfig().bankRank()).isEqualTo(16);
        assertThat(c.engineConfig().bankTargets()).containsExactly("q_proj", "v_proj");
        assertThat(c.cacheConfig().deviceBytes()).isEqualTo(64L << 20);
        assertThat(c.cacheConfig().hostBytes()).isEqualTo(1L << 30);
        assertThat(c.cacheConfig().evictionPolicy()).isEqualTo("lru");
    }

    @Test
    void withoutOptionsEveryKeyKeepsTheConfigsDefault() throws Exception {
        WorkerCommand command = parse(Map.of(), args("--worker-id", "w"));
        WorkerConfig fromCommand = command.config();
        WorkerConfig fromKeys = WorkerConfig.from(Map.of(WorkerConfig.BOOTSTRAP_SERVERS.name(), "h:1", WorkerConfig.SCHEMA_REGISTRY_URL.name(), "http://r:2",
                WorkerConfig.MODEL_DIR.name(), dir.resolve("m").toString(), WorkerConfig.ADAPTER_DIR.name(), dir.resolve("a").toString(),
                WorkerConfig.WORKER_ID.name(), "w"));

        assertThat(fromCommand.toString()).isEqualTo(fromKeys.toString());
        assertThat(command.metricsPort()).isEqualTo(9400);
    }

    @Test
    void theSimulatedEngineNeedsNoModel() {
        WorkerConfig c = parse(Map.of(), "--bootstrap-servers", "h:1", "--schema-registry", "http://r:2", "--engine", "sim",
                "--sim-adapters", "20", "--sim-device-slots", "4", "--sim-host-slots", "8", "--sim-time-scale", "2.5", "--max-batch", "16").config();

        assertThat(c.simulated()).isTrue();
        assertThat(c.modelDir()).isNull();
        assertThat(c.simConfig().adapterIds()).hasSize(20);
        assertThat(c.simConfig().deviceSlots()).isEqualTo(4);
        assertThat(c.simConfig().hostSlots()).isEqualTo(8);
        assertThat(c.simConfig().timeScale()).isEqualTo(2.5);
        assertThat(c.simConfig().maxRows()).isEqualTo(16);
    }

    @Test
    void setKeysApplyAfterTheOptionsAndMayCarryTheConnection() {
        WorkerConfig c = parse(Map.of(), "--set", "bootstrap.servers=h:1", "--set", "schema.registry.url=http://r:2", "--set", "engine=sim",
                "--max-batch", "4", "--set", "max.batch.size=32", "--worker-id=w9", "--set", "heartbeat.interval.ms=500").config();

        assertThat(c.bootstrapServers()).isEqualTo("h:1");
        assertThat(c.maxBatchSize()).isEqualTo(32);
        assertThat(c.workerId()).isEqualTo("w9");
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void optionsComeFromTheEnvironmentWhenTheCommandLineLacksThem() throws Exception {
        WorkerConfig c = parse(Map.of("LORASTREAM_MAX_BATCH", "16", "LORASTREAM_PROVIDER", "cuda", "LORASTREAM_BOOTSTRAP_SERVERS", "env:9"),
                args("--provider", "cpu")).config();

        assertThat(c.maxBatchSize()).isEqualTo(16);
        assertThat(c.executionProvider()).as("the command line wins").isEqualTo("cpu");
        assertThat(c.bootstrapServers()).isEqualTo("h:1");
    }

    @Test
    void badValuesAreUsageErrorsNamingTheOption() throws Exception {
        assertThat(execute(args("--precision", "int4"))).isEqualTo(2);
        assertThat(err.toString()).contains("worker: --precision: ", "engine.precision", "auto | fp16 | fp32");

        err.getBuffer().setLength(0);
        assertThat(execute(args("--adapter-eviction-policy", "fifo"))).isEqualTo(2);
        assertThat(err.toString()).contains("--adapter-eviction-policy: ", "adapter.cache.eviction.policy");

        err.getBuffer().setLength(0);
        assertThat(execute(args("--metrics-port", "70000"))).isEqualTo(2);
        assertThat(err.toString()).contains("--metrics-port", "70000 is not a port");

        err.getBuffer().setLength(0);
        assertThat(execute("--schema-registry", "http://r:2", "--engine", "sim")).isEqualTo(2);
        assertThat(err.toString()).contains("--bootstrap-servers: bootstrap.servers is required");
    }

    @Test
    void anUnknownOptionIsAUsageErrorNamingIt() throws Exception {
        assertThat(execute(args("--gpus", "2"))).isEqualTo(2);
        assertThat(err.toString()).contains("worker: Unknown option", "'--gpus'");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void helpListsEveryOptionWithItsDefaultAndTheSetKeys() {
        assertThat(execute("--help")).isZero();
        String help = out.toString();
        for (String option : List.of("--bootstrap-servers", "--schema-registry", "--model", "--adapters", "--worker-id", "--group-id",
                "--provider", "--max-batch", "--metrics-port", "--precision", "--tf32", "--graph", "--kv-capacity", "--cuda-graphs",
                "--bank-rank", "--bank-targets", "--adapter-device-bytes", "--adapter-host-bytes", "--adapter-eviction-policy",
                "--engine", "--sim-adapters", "--sim-device-slots", "--sim-host-slots", "--sim-time-scale", "--set")) {
            assertThat(help).contains(option);
        }
        assertThat(help).contains("(default: " + WorkerConfig.defaultOf("max.batch.size") + ")", "(default: 9400)",
                "(default: " + WorkerConfig.defaultOf("adapter.cache.eviction.policy") + ")", "heartbeat.interval.ms", "LORASTREAM_");
    }
}
