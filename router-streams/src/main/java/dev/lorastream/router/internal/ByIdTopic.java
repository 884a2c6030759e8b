package dev.lorastream.router.internal;

import dev.lorastream.schemas.config.KafkaClientSettings;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Makes sure {@link Topics#REQUESTS_BY_ID} has as many partitions as {@link Topics#REQUESTS} before the router starts: task p
 * reads partition p of both, and a request id must meet its earlier uses on one task. Created with that count (and the
 * requests topic's replication) when missing; a different count is refused, naming both.
 */
public final class ByIdTopic {
    private static final Logger LOG = LoggerFactory.getLogger(ByIdTopic.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private ByIdTopic() {}

    /**
     * @throws IllegalStateException when the two topics' partition counts differ, or the by-id topic cannot be created
     */
    public static void ensure(String bootstrapServers, String clientId) {
        try (Admin admin = Admin.create(KafkaClientSettings.with(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.CLIENT_ID_CONFIG, clientId)))) {
            TopicDescription requests = describe(admin, Topics.REQUESTS);
            if (requests == null) return; // the streams client says so, and waits for it
            int partitions = requests.partitions().size();
            TopicDescription byId = describe(admin, Topics.REQUESTS_BY_ID);
            if (byId == null) {
                short replication = (short) requests.partitions().getFirst().replicas().size();
                try {
                    admin.createTopics(List.of(new NewTopic(Topics.REQUESTS_BY_ID, partitions, replication))).all()
                            .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    LOG.info("created {} with {} partitions (as {})", Topics.REQUESTS_BY_ID, partitions, Topics.REQUESTS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) throw e;
                }
                byId = describe(admin, Topics.REQUESTS_BY_ID);
            }
            if (byId != null && byId.partitions().size() != partitions) {
                throw new IllegalStateException(Topics.REQUESTS_BY_ID + " has " + byId.partitions().size() + " partitions and " + Topics.REQUESTS
                        + " " + partitions + ": they must have as many (the router deduplicates request ids per partition of both); "
                        + "add partitions to the smaller one");
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot check " + Topics.REQUESTS_BY_ID + " on " + bootstrapServers + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted checking " + Topics.REQUESTS_BY_ID, e);
        }
    }

    private static TopicDescription describe(Admin admin, String topic) throws ExecutionException, InterruptedException,
            java.util.concurrent.TimeoutException {
        try {
            return admin.describeTopics(List.of(topic)).topicNameValues().get(topic).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) return null;
            throw e;
        }
    }
}
