package dev.lorastream.platform;

import dev.lorastream.schemas.GenerationParams;
import dev.lorastream.schemas.InferenceRequest;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;

/** Small client helpers for the integration tests. */
final class Records {
    private Records() {}

    static String uniqueTopic(String prefix) { return prefix + "-" + UUID.randomUUID().toString().substring(0, 8); }

    static void createTopic(String bootstrap, String topic, int partitions) throws ExecutionException, InterruptedException {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    static KafkaProducer<String, String> stringProducer(String bootstrap, Map<String, Object> extra) {
        return producer(bootstrap, extra, new StringSerializer());
    }

    static <V> KafkaProducer<String, V> producer(String bootstrap, Map<String, Object> extra, Serializer<V> values) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        config.putAll(extra);
        return new KafkaProducer<>(config, new StringSerializer(), values);
    }

    static KafkaConsumer<String, String> stringConsumer(String bootstrap, Map<String, Object> extra) {
        return consumer(bootstrap, extra, new StringDeserializer());
    }

    static <V> KafkaConsumer<String, V> consumer(String bootstrap, Map<String, Object> extra, Deserializer<V> values) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.putAll(extra);
        return new KafkaConsumer<>(config, new StringDeserializer(), values);
    }

    /** Reads a whole partition-assigned topic from the beginning until {@code expected} records or the timeout. */
    static <V> List<ConsumerRecord<String, V>> readAll(KafkaConsumer<String, V> consumer, String topic, int partitions,
                                                       int expected, Duration timeout) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < partitions; p++) tps.add(new TopicPartition(topic, p));
        consumer.assign(tps);
        consumer.seekToBeginning(tps);
        return poll(consumer, expected, timeout);
    }

    /** Polls until {@code expected} records arrived or the timeout passed, then polls once more for extras. */
    static <V> List<ConsumerRecord<String, V>> poll(KafkaConsumer<String, V> consumer, int expected, Duration timeout) {
        List<ConsumerRecord<String, V>> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (out.size() < expected && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(out::add);
        }
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
        return out;
    }

    static InferenceRequest request(String id, String adapter) {
        return InferenceRequest.newBuilder()
                .setRequestId(id)
                .setTenant("tenant-" + id)
                .setAdapterId(adapter)
                .setPrompt("prompt of " + id)
                .setParams(GenerationParams.newBuilder().setMaxNewTokens(8).build())
                .setSubmittedAtMs(Instant.ofEpochMilli(1_790_000_000_000L))
                .setAttributes(Map.of("n", id))
                .build();
    }
}
