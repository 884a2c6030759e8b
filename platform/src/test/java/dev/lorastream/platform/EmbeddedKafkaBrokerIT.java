package dev.lorastream.platform;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class EmbeddedKafkaBrokerIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @Test
    void recordsProducedAreConsumedByAGroup() throws Exception {
        // Given the shared platform and a topic created on first use (auto.create.topics.enable, 4 partitions)
        String bootstrap = TestPlatform.shared().bootstrapServers();
        String topic = Records.uniqueTopic("plain");

        // When 100 records are produced
        try (KafkaProducer<String, String> producer = Records.stringProducer(bootstrap, Map.of())) {
            for (int i = 0; i < 100; i++) producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)).get();
        }

        // Then a consumer group reads all of them, spread over the default partition count
        try (KafkaConsumer<String, String> consumer = Records.stringConsumer(bootstrap,
                Map.of(ConsumerConfig.GROUP_ID_CONFIG, "group-" + topic))) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> records = Records.poll(consumer, 100, TIMEOUT);
            assertThat(records).extracting(ConsumerRecord::value)
                    .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 100).mapToObj(i -> "v" + i).toList());
            assertThat(records).extracting(ConsumerRecord::partition).containsOnly(0, 1, 2, 3);
            consumer.commitSync();
        }
    }

    @Test
    void readCommittedSeesOnlyCommittedTransactions() throws Exception {
        // Given a one-partition topic and a transactional producer
        String bootstrap = TestPlatform.shared().bootstrapServers();
        String topic = Records.uniqueTopic("tx");
        Records.createTopic(bootstrap, topic, 1);
        try (KafkaProducer<String, String> producer = Records.stringProducer(bootstrap,
                Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx-" + topic))) {
            producer.initTransactions();

            // When one transaction commits, one aborts and a third commits
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "a", "committed-1"));
            producer.send(new ProducerRecord<>(topic, "a", "committed-2"));
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "a", "aborted-1"));
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "a", "committed-3"));
            producer.commitTransaction();
        }

        // Then read_committed sees the committed records in order; read_uncommitted sees the aborted one too
        try (KafkaConsumer<String, String> committed = Records.stringConsumer(bootstrap,
                     Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"));
             KafkaConsumer<String, String> uncommitted = Records.stringConsumer(bootstrap,
                     Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted"))) {
            assertThat(Records.readAll(committed, topic, 1, 3, TIMEOUT)).extracting(ConsumerRecord::value)
                    .containsExactly("committed-1", "committed-2", "committed-3");
            assertThat(Records.readAll(uncommitted, topic, 1, 4, TIMEOUT)).extracting(ConsumerRecord::value)
                    .containsExactly("committed-1", "committed-2", "aborted-1", "committed-3");
        }
    }

    @Test
    void stopThenStartKeepsClusterIdPortAndRecords(@TempDir Path dir) throws Exception {
        // Given a broker of its own with a topic of 10 records
        try (EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir).start()) {
            String clusterId = broker.clusterId();
            int port = broker.port();
            String topic = Records.uniqueTopic("durable");
            Records.createTopic(broker.bootstrapServers(), topic, 2);
            try (KafkaProducer<String, String> producer = Records.stringProducer(broker.bootstrapServers(), Map.of())) {
                for (int i = 0; i < 10; i++) producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)).get();
            }

            // When it is stopped and started again
            broker.stop();
            assertThat(broker.isRunning()).isFalse();
            broker.start();

            // Then it is the same cluster, on the same port, with the same records
            assertThat(broker.clusterId()).isEqualTo(clusterId);
            assertThat(broker.port()).isEqualTo(port);
            assertThat(clusterIdReportedBy(broker.bootstrapServers())).isEqualTo(clusterId);
            try (KafkaConsumer<String, String> consumer = Records.stringConsumer(broker.bootstrapServers(), Map.of())) {
                assertThat(Records.readAll(consumer, topic, 2, 10, TIMEOUT)).hasSize(10);
            }
        }
    }

    @Test
    void aNewBrokerOverTheSameDirectoryIsTheSameCluster(@TempDir Path dir) throws Exception {
        // Given a broker that ran and was closed
        String clusterId;
        try (EmbeddedKafkaBroker first = new EmbeddedKafkaBroker(dir).start()) {
            clusterId = first.clusterId();
        }

        // When another instance starts over the same work directory
        try (EmbeddedKafkaBroker second = new EmbeddedKafkaBroker(dir).start()) {
            // Then it reuses the persisted cluster id and the formatted data dir
            assertThat(second.clusterId()).isEqualTo(clusterId);
            assertThat(Files.readString(dir.resolve("broker.state"))).contains("cluster.id=" + clusterId);
            assertThat(Files.readString(dir.resolve("data").resolve("meta.properties"))).contains("cluster.id=" + clusterId);
        }
    }

    private static String clusterIdReportedBy(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            return admin.describeCluster().clusterId().get();
        }
    }
}
