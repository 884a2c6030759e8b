package dev.lorastream.schemas.topic;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Whether a topic exists on the cluster, asked before something is published to a topic a request
 * names (its reply topic): a send to a missing topic on a cluster that does not create topics on
 * demand blocks for the producer's {@code max.block.ms} and then fails, and a transaction that
 * keeps failing on the same request would stall its partition. Answers are remembered: a topic
 * found for {@link #FOUND_FOR}, a missing one for {@link #MISSING_FOR} (so one created meanwhile
 * is soon found). When the cluster cannot be asked, the topic is taken to exist and nothing is
 * remembered: the send then fails or succeeds as it would have. Thread-safe.
 */
public final class TopicDirectory implements AutoCloseable {
    public static final Duration FOUND_FOR = Duration.ofMinutes(10);
    public static final Duration MISSING_FOR = Duration.ofSeconds(10);
    static final Duration ASK_TIMEOUT = Duration.ofSeconds(5);

    /** Asks the cluster about one topic. */
    @FunctionalInterface
    public interface Lookup {
        /** True when the topic exists, false when the cluster says it does not; throws when it cannot be asked. */
        boolean exists(String topic) throws Exception;
    }

    /** Takes every topic to exist: for clients that cannot be asked (tests with mock clients). */
    public static final TopicDirectory TRUSTING = new TopicDirectory(topic -> true, Clock.systemUTC(), () -> { });

    private record Answer(boolean exists, long until) {}

    private final Lookup lookup;
    private final Clock clock;
    private final AutoCloseable resource;
    private final Map<String, Answer> answers = new HashMap<>();

    public TopicDirectory(Lookup lookup, Clock clock, AutoCloseable resource) {
        this.lookup = lookup;
        this.clock = clock;
        this.resource = resource;
    }

    /** Asks the cluster at {@code bootstrapServers} through an admin client of its own, closed with the directory. */
    public static TopicDirectory of(String bootstrapServers, String clientId) {
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.CLIENT_ID_CONFIG, clientId,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ASK_TIMEOUT.toMillis(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) ASK_TIMEOUT.toMillis()));
        return new TopicDirectory(topic -> describe(admin, topic), Clock.systemUTC(), () -> admin.close(Duration.ofSeconds(5)));
    }

    private static boolean describe(Admin admin, String topic) throws Exception {
        KafkaFuture<?> f = admin.describeTopics(java.util.List.of(topic)).topicNameValues().get(topic);
        try {
            f.get(ASK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) return false;
            throw e;
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer about topic '" + topic + "' within " + ASK_TIMEOUT.toMillis() + " ms", e);
        }
    }

    /** Whether {@code topic} exists (true when the cluster cannot say). */
    public boolean exists(String topic) {
        long now = clock.millis();
        synchronized (this) {
            Answer a = answers.get(topic);
            if (a != null && now < a.until()) return a.exists();
        }
        boolean exists;
        try {
            exists = lookup.exists(topic);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        } catch (Exception e) {
            return true; // unknown: not remembered, asked again next time
        }
        synchronized (this) {
            answers.put(topic, new Answer(exists, now + (exists ? FOUND_FOR : MISSING_FOR).toMillis()));
        }
        return exists;
    }

    @Override
    public void close() {
        try {
            resource.close();
        } catch (Exception e) {
            // closing an admin client: nothing to do about it
        }
    }
}
