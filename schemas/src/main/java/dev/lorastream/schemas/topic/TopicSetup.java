package dev.lorastream.schemas.topic;

import dev.lorastream.schemas.config.KafkaClientSettings;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;

/** Creates the pipeline's topics when they are missing (compacted where the table says so). */
public final class TopicSetup {
    private TopicSetup() {}

    public static void ensure(String bootstrapServers, int partitions, short replication) {
        try (Admin admin = Admin.create(KafkaClientSettings.with(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers)))) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = new ArrayList<>();
            for (String name : Topics.VALUE_SCHEMAS.keySet()) {
                if (existing.contains(name)) continue;
                NewTopic topic = new NewTopic(name, partitions, replication);
                if (Topics.COMPACTED.contains(name)) {
                    topic.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
                } else if (name.equals(Topics.STREAM) || name.equals(Topics.CANCELS)) {
                    topic.configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(Topics.STREAM_RETENTION_MS)));
                }
                missing.add(topic);
            }
            if (missing.isEmpty()) return;
            try {
                admin.createTopics(missing).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) throw e;
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot create topics on " + bootstrapServers + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted creating topics", e);
        }
    }
}
