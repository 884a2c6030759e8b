package dev.lorastream.platform.internal;

import kafka.server.KafkaConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BrokerConfigTest {
    private final Path logDir = Path.of("/tmp/kafka-test-data");

    @Test
    void kafkaAcceptsTheProperties() {
        Map<String, String> props = BrokerConfig.serverProperties(logDir, 19092, 19093, 4, Map.of());

        KafkaConfig config = new KafkaConfig(props, false);

        assertThat(config.nodeId()).isEqualTo(1);
        assertThat(config.numPartitions()).isEqualTo(4);
        assertThat(config.logDirs()).containsExactly(logDir.toString());
    }

    @Test
    void internalTopicsAreSmallAndSingleReplica() {
        Map<String, String> props = BrokerConfig.serverProperties(logDir, 19092, 19093, 4, Map.of());

        assertThat(props).containsEntry("offsets.topic.num.partitions", "4")
                .containsEntry("offsets.topic.replication.factor", "1")
                .containsEntry("transaction.state.log.num.partitions", "4")
                .containsEntry("transaction.state.log.replication.factor", "1")
                .containsEntry("transaction.state.log.min.isr", "1")
                .containsEntry("group.initial.rebalance.delay.ms", "0")
                .containsEntry("log.cleaner.dedupe.buffer.size", String.valueOf(4 * 1024 * 1024))
                .containsEntry("auto.create.topics.enable", "true")
                .containsEntry("listeners", "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093")
                .containsEntry("controller.quorum.voters", "1@127.0.0.1:19093");
    }

    @Test
    void overridesReplaceDefaults() {
        Map<String, String> props = BrokerConfig.serverProperties(logDir, 1, 2, 4, Map.of("num.partitions", "12"));

        assertThat(props).containsEntry("num.partitions", "12");
    }

    @Test
    void zeroPartitionsIsRefused() {
        assertThatThrownBy(() -> BrokerConfig.serverProperties(logDir, 1, 2, 0, Map.of()))
                .hasMessageContaining("num.partitions");
    }
}
