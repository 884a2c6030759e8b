package dev.lorastream.worker;

import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkerArgsTest {
    @TempDir Path dir;

    private String[] base(String... more) throws Exception {
        Path model = Files.createDirectories(dir.resolve("m"));
        Path adapters = Files.createDirectories(dir.resolve("a"));
        String[] head = {"--bootstrap-servers", "h:1", "--schema-registry", "http://r:2", "--model", model.toString(), "--adapters", adapters.toString()};
        String[] all = new String[head.length + more.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(more, 0, all, head.length, more.length);
        return all;
    }

    @Test
    void theDocumentedFlagsMapToTheirKeys() throws Exception {
        WorkerConfig c = WorkerArgs.parse(base("--worker-id", "gpu-1", "--max-batch", "4", "--provider", "cuda"));

        assertThat(c.bootstrapServers()).isEqualTo("h:1");
        assertThat(c.schemaRegistryUrl()).isEqualTo("http://r:2");
        assertThat(c.modelDir()).isEqualTo(dir.resolve("m"));
        assertThat(c.adapterDir()).isEqualTo(dir.resolve("a"));
        assertThat(c.workerId()).isEqualTo("gpu-1");
        assertThat(c.maxBatchSize()).isEqualTo(4);
        assertThat(c.executionProvider()).isEqualTo("cuda");
    }

    @Test
    void flagEqualsValueAndSetKeyValueWorkToo() throws Exception {
        WorkerConfig c = WorkerArgs.parse(base("--worker-id=w9", "--set", "heartbeat.interval.ms=500"));

        assertThat(c.workerId()).isEqualTo("w9");
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void anUnknownFlagIsRefusedWithTheUsage() throws Exception {
        assertThatThrownBy(() -> WorkerArgs.parse(base("--gpus", "2"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown flag --gpus").hasMessageContaining("usage:");
    }

    @Test
    void aFlagWithoutValueIsRefused() throws Exception {
        assertThatThrownBy(() -> WorkerArgs.parse(base("--worker-id"))).hasMessageContaining("--worker-id needs a value");
    }

    @Test
    void missingRequiredFlagsAreNamed() {
        assertThatThrownBy(() -> WorkerArgs.parse(new String[]{"--bootstrap-servers", "h:1"}))
                .hasMessageContaining("schema.registry.url is required");
    }

    @Test
    void helpIsRecognised() {
        assertThat(WorkerArgs.wantsHelp(new String[]{"--help"})).isTrue();
        assertThat(WorkerArgs.wantsHelp(new String[]{"--model", "x"})).isFalse();
    }
}
