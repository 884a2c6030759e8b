package dev.lorastream.sink;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SinkConfigTest {
    private static final String BOOTSTRAP = "127.0.0.1:9092";
    private static final String REGISTRY = "http://127.0.0.1:8081";

    @Test
    void defaultsApplyWhenOnlyTheConnectionIsGiven() {
        SinkConfig config = SinkConfig.builder(BOOTSTRAP, REGISTRY).build();

        assertThat(config.groupId()).isEqualTo("lorastream-attribution-sink");
        assertThat(config.topic()).isEqualTo("attribution.events");
        assertThat(config.dlqTopic()).isEqualTo("inference.dlq");
        assertThat(config.dataDir()).isEqualTo(Path.of("data"));
        assertThat(config.batchSize()).isEqualTo(500);
        assertThat(config.flushInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.parquetExport()).isTrue();
    }

    @Test
    void theSinkIsAStaticCooperativeGroupMemberWithAShortSession() {
        SinkConfig config = SinkConfig.builder(BOOTSTRAP, REGISTRY).dataDir(Path.of("/var/sink")).build();
        assertThat(config.configuredInstanceId()).as("derived when the sink starts").isNull();
        assertThat(config.sessionTimeout()).isEqualTo(Duration.ofMillis(7_000));
        assertThat(config.leaveGroupOnClose()).isTrue();
        assertThat(config.instanceLockFile()).isEqualTo(Path.of("/var/sink/.instance.lock"));

        var props = AttributionSink.consumerProperties(config, "sink-a");
        assertThat(props).containsEntry(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "sink-a")
                .containsEntry(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 7_000)
                .containsEntry(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName())
                .containsEntry(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        assertThat(AttributionSink.consumerProperties(config, null)).doesNotContainKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        assertThat(SinkConfig.builder(BOOTSTRAP, REGISTRY).instanceId("none").sessionTimeout(Duration.ofSeconds(6)).build().sessionTimeout())
                .isEqualTo(Duration.ofSeconds(6));
    }

    @Test
    void valuesAreReadFromStringsAsFromAPropertiesFile() {
        SinkConfig config = SinkConfig.from(Map.of(
                "bootstrap.servers", BOOTSTRAP, "schema.registry.url", REGISTRY, "batch.size", "50",
                "flush.interval.ms", "250", "parquet.export", "false", "data.dir", "/tmp/x"));

        assertThat(config.batchSize()).isEqualTo(50);
        assertThat(config.flushInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(config.parquetExport()).isFalse();
        assertThat(config.dataDir()).isEqualTo(Path.of("/tmp/x"));
    }

    @Test
    void aMissingBootstrapServersIsRefusedNamingTheKey() {
        assertThatThrownBy(() -> SinkConfig.from(Map.of("schema.registry.url", REGISTRY)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("bootstrap.servers");
    }

    @Test
    void aRegistryUrlThatIsNotHttpIsRefused() {
        assertThatThrownBy(() -> SinkConfig.builder(BOOTSTRAP, "localhost:8081").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("schema.registry.url");
    }

    @Test
    void aBatchSizeBelowOneIsRefused() {
        assertThatThrownBy(() -> SinkConfig.builder(BOOTSTRAP, REGISTRY).batchSize(0).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("batch.size");
    }

    @Test
    void aBooleanThatIsNotOneIsRefused() {
        Map<String, Object> props = new HashMap<>(Map.of("bootstrap.servers", BOOTSTRAP, "schema.registry.url", REGISTRY));
        props.put("parquet.export", "sometimes");
        assertThatThrownBy(() -> SinkConfig.from(props))
                .isInstanceOf(ConfigException.class).hasMessageContaining("parquet.export");
    }

    @Test
    void aDataDirThatIsAFileIsRefused(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("f"), "x");
        assertThatThrownBy(() -> SinkConfig.builder(BOOTSTRAP, REGISTRY).dataDir(file).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("data.dir").hasMessageContaining("not a directory");
    }

    @Test
    void dead_letteringIntoTheInputTopicIsRefusedNamingBothKeys() {
        assertThatThrownBy(() -> SinkConfig.builder(BOOTSTRAP, REGISTRY).topic("attribution.events").dlqTopic("attribution.events").build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("topic")
                .hasMessageContaining("dlq.topic");
    }

    @Test
    void aPollTimeoutLongerThanTheFlushIntervalIsRefusedNamingBothKeys() {
        assertThatThrownBy(() -> SinkConfig.builder(BOOTSTRAP, REGISTRY)
                .flushInterval(Duration.ofMillis(100)).pollTimeout(Duration.ofMillis(500)).build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("poll.timeout.ms")
                .hasMessageContaining("flush.interval.ms");
    }

    @Test
    void anUnknownKeyIsRefused() {
        assertThatThrownBy(() -> SinkConfig.from(Map.of("bootstrap.servers", BOOTSTRAP, "schema.registry.url", REGISTRY, "batchsize", 5)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("batchsize");
    }

    @Test
    void everyKeyHasADocLine() {
        SinkConfig.DEFINITION.configKeys().values().forEach(key -> assertThat(key.documentation).as(key.name).isNotBlank());
    }
}
