package dev.lorastream.worker.internal;

import dev.lorastream.worker.WorkerConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaWorkerClientsTest {
    @TempDir Path dir;

    private WorkerConfig config() throws Exception {
        return WorkerConfig.from(Map.of("bootstrap.servers", "b:9092", "schema.registry.url", "http://r",
                "model.dir", Files.createDirectories(dir.resolve("m")).toString(),
                "adapter.dir", Files.createDirectories(dir.resolve("a")).toString(),
                "worker.id", "w-1", "max.poll.records", "17"));
    }

    @Test
    void theConsumerReadsCommittedOnlyAndNeverAutoCommits() throws Exception {
        Map<String, Object> p = KafkaWorkerClients.consumerProps(config());

        assertThat(p).containsEntry(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
                .containsEntry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false)
                .containsEntry(ConsumerConfig.GROUP_ID_CONFIG, "lorastream-workers")
                .containsEntry(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 17)
                .containsEntry(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    }

    @Test
    void theConsumerIsAStaticCooperativeMemberWithAShortSession() throws Exception {
        Map<String, Object> p = KafkaWorkerClients.consumerProps(config());

        assertThat(p).containsEntry(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "w-1")
                .containsEntry(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 7_000)
                .containsEntry(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_750)
                .containsEntry(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        assertThat(KafkaWorkerClients.consumerProps(config().with(Map.of("group.membership", "dynamic"))))
                .doesNotContainKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    }

    @Test
    void theOutputProducerIsTransactionalIdempotentAndWaitsForAllReplicas() throws Exception {
        Map<String, Object> p = KafkaWorkerClients.transactionalProps(config());

        assertThat(p).containsEntry(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "lorastream-workers.w-1")
                .containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true)
                .containsEntry(ProducerConfig.ACKS_CONFIG, "all")
                .containsEntry(ProducerConfig.LINGER_MS_CONFIG, 0);
    }

    @Test
    void theHeartbeatProducerIsNotTransactional() throws Exception {
        assertThat(KafkaWorkerClients.statusProps(config())).doesNotContainKey(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    }
}
