package dev.lorastream.launcher;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Reads a topic (read_committed) from offsets captured earlier, for assertions in integration tests. */
final class TopicReader {
    private TopicReader() {}

    static Map<TopicPartition, Long> endOffsets(String bootstrap, String topic) {
        try (var consumer = consumer(bootstrap, new StringDeserializer())) {
            var partitions = consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            return consumer.endOffsets(partitions);
        }
    }

    /**
     * Commits a new consumer group's offsets at the topic's end, so that a worker of that group serves
     * only what is sent from now on, not the history other tests left on the shared broker.
     */
    static void startGroupAtEnd(String bootstrap, String group, String topic) throws Exception {
        Map<TopicPartition, Long> end = endOffsets(bootstrap, topic);
        Map<TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> offsets = new java.util.HashMap<>();
        end.forEach((tp, offset) -> offsets.put(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(offset)));
        try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of(
                org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.alterConsumerGroupOffsets(group, offsets).all().get();
        }
    }

    /** Polls until {@code until} holds for what was read, or the timeout passes; returns everything read. */
    static <V> List<ConsumerRecord<String, V>> read(String bootstrap, Map<TopicPartition, Long> from, Deserializer<V> values,
                                                    Predicate<List<ConsumerRecord<String, V>>> until, Duration timeout) {
        List<ConsumerRecord<String, V>> out = new ArrayList<>();
        try (var consumer = consumer(bootstrap, values)) {
            consumer.assign(from.keySet());
            from.forEach(consumer::seek);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline && !until.test(out)) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            // one more short poll: anything extra (a duplicate) shows up too
            consumer.poll(Duration.ofMillis(500)).forEach(out::add);
        }
        return out;
    }

    private static <V> KafkaConsumer<String, V> consumer(String bootstrap, Deserializer<V> values) {
        return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new StringDeserializer(), values);
    }
}
