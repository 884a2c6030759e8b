package dev.lorastream.worker;

import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkerConfigTest {
    @TempDir Path dir;
    private Map<String, Object> raw;

    @BeforeEach
    void minimal() throws Exception {
        raw = new HashMap<>(Map.of(
                "bootstrap.servers", "127.0.0.1:9092",
                "schema.registry.url", "http://127.0.0.1:8080/apis/ccompat/v7",
                "model.dir", Files.createDirectories(dir.resolve("model")).toString(),
                "adapter.dir", Files.createDirectories(dir.resolve("adapters")).toString()));
    }

    @Test
    void defaultsFillTheOptionalKeys() {
        WorkerConfig c = WorkerConfig.from(raw);

        assertThat(c.groupId()).isEqualTo("lorastream-workers");
        assertThat(c.workerId()).matches(".+-" + ProcessHandle.current().pid());
        assertThat(c.maxBatchSize()).isEqualTo(8);
        assertThat(c.maxPollRecords()).isEqualTo(32);
        assertThat(c.pollTimeout()).isEqualTo(Duration.ofMillis(200));
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.executionProvider()).isEqualTo("cpu");
        assertThat(c.modelDir()).isEqualTo(dir.resolve("model"));
    }

    @Test
    void theTransactionalIdIsDerivedFromGroupAndWorkerIdSoARestartGetsTheSameOne() {
        raw.put("worker.id", "gpu-7");

        WorkerConfig first = WorkerConfig.from(raw);
        WorkerConfig restarted = WorkerConfig.from(raw);

        assertThat(first.transactionalId()).isEqualTo("lorastream-workers.gpu-7").isEqualTo(restarted.transactionalId());
        assertThat(first.with(Map.of("worker.id", "gpu-8")).transactionalId()).isNotEqualTo(first.transactionalId());
    }

    @Test
    void aWorkerIsAStaticGroupMemberUnderItsWorkerIdAndLeavesWhenStopped() {
        raw.put("worker.id", "gpu-7");
        WorkerConfig c = WorkerConfig.from(raw);

        assertThat(c.groupInstanceId()).isEqualTo("gpu-7");
        assertThat(c.leaveGroupOnClose()).isTrue();
        assertThat(c.sessionTimeout()).isEqualTo(Duration.ofMillis(7_000));
        assertThat(c.with(Map.of("worker.id", "host:4711")).groupInstanceId()).as("made a legal group instance id").isEqualTo("host_4711");
        assertThat(c.with(Map.of("group.membership", "dynamic")).groupInstanceId()).isNull();
        assertThat(c.with(Map.of("group.leave.on.close", "false")).leaveGroupOnClose()).isFalse();
    }

    @Test
    void theTransactionWatchdogRunsByDefaultAndItsBoundMustExceedTheTransactionTimeout() {
        WorkerConfig c = WorkerConfig.from(raw);
        assertThat(c.watchdogEnabled()).isTrue();
        assertThat(c.watchdogInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.watchdogMaxOpen()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.with(Map.of("transaction.watchdog.interval.ms", 0)).watchdogEnabled()).isFalse();
        assertThat(c.with(Map.of("transaction.watchdog.max.open.ms", 0)).watchdogEnabled()).isFalse();

        raw.put("transaction.watchdog.max.open.ms", "10000");
        assertThatThrownBy(() -> WorkerConfig.from(raw)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("transaction.watchdog.max.open.ms").hasMessageContaining("transaction.timeout.ms");
        raw.put("transaction.watchdog.interval.ms", "0");
        assertThat(WorkerConfig.from(raw).watchdogEnabled()).as("no contradiction when it is off").isFalse();
    }

    @Test
    void typedAndStringValuesAreBothAccepted() {
        raw.put("max.batch.size", "4");
        raw.put("poll.timeout.ms", 50);
        raw.put("heartbeat.interval.ms", Duration.ofMillis(750));
        raw.put("execution.provider", "CUDA");

        WorkerConfig c = WorkerConfig.from(raw);

        assertThat(c.maxBatchSize()).isEqualTo(4);
        assertThat(c.pollTimeout()).isEqualTo(Duration.ofMillis(50));
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofMillis(750));
        assertThat(c.executionProvider()).isEqualTo("cuda");
    }

    @Test
    void aMissingRequiredKeyIsNamed() {
        raw.remove("bootstrap.servers");

        assertThatThrownBy(() -> WorkerConfig.from(raw)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("bootstrap.servers is required");
    }

    @Test
    void anUnknownKeyIsRefusedByName() {
        raw.put("max.batch", "4");

        assertThatThrownBy(() -> WorkerConfig.from(raw)).isInstanceOf(ConfigException.class).hasMessageContaining("[max.batch]");
    }

    @Test
    void outOfRangeAndUnparsableValuesAreRefusedWithTheKey() {
        assertThatThrownBy(() -> WorkerConfig.from(with("max.batch.size", "0"))).hasMessageContaining("max.batch.size");
        assertThatThrownBy(() -> WorkerConfig.from(with("max.poll.records", "many"))).hasMessageContaining("max.poll.records");
        assertThatThrownBy(() -> WorkerConfig.from(with("execution.provider", "tpu"))).hasMessageContaining("execution.provider")
                .hasMessageContaining("cpu | cuda");
        assertThatThrownBy(() -> WorkerConfig.from(with("model.dir", dir.resolve("missing").toString())))
                .hasMessageContaining("model.dir").hasMessageContaining("existing directory");
        assertThatThrownBy(() -> WorkerConfig.from(with("worker.id", "has space"))).hasMessageContaining("worker.id");
        assertThatThrownBy(() -> WorkerConfig.from(with("schema.registry.url", "localhost:8081"))).hasMessageContaining("schema.registry.url");
    }

    @Test
    void aBatchLargerThanAPollIsAContradictionNamingBothKeys() {
        raw.put("max.batch.size", "16");
        raw.put("max.poll.records", "8");

        assertThatThrownBy(() -> WorkerConfig.from(raw)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("max.batch.size (16)").hasMessageContaining("max.poll.records (8)");
    }

    @Test
    void aBackoffAboveItsCapIsAContradiction() {
        raw.put("retry.backoff.ms", "2000");
        raw.put("retry.backoff.max.ms", "1000");

        assertThatThrownBy(() -> WorkerConfig.from(raw)).hasMessageContaining("retry.backoff.ms").hasMessageContaining("retry.backoff.max.ms");
    }

    @Test
    void modelAndAdapterDirMustDiffer() {
        raw.put("adapter.dir", raw.get("model.dir"));

        assertThatThrownBy(() -> WorkerConfig.from(raw)).hasMessageContaining("model.dir").hasMessageContaining("adapter.dir");
    }

    @Test
    void theHelpListsEveryKeyWithItsDefault() {
        String help = WorkerConfig.help();

        for (ConfigKey<?> key : WorkerConfig.KEYS) assertThat(help).contains(key.name());
        assertThat(help).contains("default lorastream-workers").contains("required");
    }

    private Map<String, Object> with(String key, Object value) {
        Map<String, Object> copy = new HashMap<>(raw);
        copy.put(key, value);
        return copy;
    }

    @Test
    void theSimulatedEngineNeedsNoModelAndTheRealOneSaysWhichDirectoryIsMissing() {
        raw.remove("model.dir");
        raw.remove("adapter.dir");
        assertThatThrownBy(() -> WorkerConfig.from(raw)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("model.dir is required with engine=onnx");
        raw.put("engine", "sim");
        raw.put("sim.adapters", "250");
        raw.put("sim.time.scale", "4");
        raw.put("max.batch.size", "16");
        WorkerConfig c = WorkerConfig.from(raw);
        assertThat(c.simulated()).isTrue();
        assertThat(c.modelDir()).isNull();
        assertThat(c.simConfig().adapterIds()).hasSize(250).startsWith("z0000").endsWith("z0249");
        assertThat(c.simConfig().maxRows()).isEqualTo(16);
        assertThat(c.simConfig().timeScale()).isEqualTo(4.0);
        raw.put("sim.time.scale", "0.5");
        assertThatThrownBy(() -> WorkerConfig.from(raw)).isInstanceOf(ConfigException.class).hasMessageContaining("sim.time.scale");
    }
}
