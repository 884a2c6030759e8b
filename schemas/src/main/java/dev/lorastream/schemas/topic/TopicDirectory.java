package dev.lorastream.schemas.topic;

import dev.lorastream.schemas.config.KafkaClientSettings;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
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
 * remembered: the send then fails or succeeds as it would have. The directory made by {@link #of} also knows
 * how many partitions a topic has ({@link #partitions}), remembered as long. Thread-safe.
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

    /** Asks the cluster about one topic, and how many partitions it has. */
    @FunctionalInterface
    public interface Describer {
        /** The topic's partition count, 0 when the cluster says it does not exist; throws when it cannot be asked. */
        int partitions(String topic) throws Exception;
    }

    /** Partition count of a topic known to exist without one. */
    private static final int UNKNOWN = -1;

    /** Takes every topic to exist: for clients that cannot be asked (tests with mock clients). */
    public static final TopicDirectory TRUSTING = new TopicDirectory((Lookup) topic -> true, Clock.systemUTC(), () -> { });

    private record Answer(int partitions, long until) {
        boolean exists() { return partitions != 0; }
    }

    private final Describer describer;
    private final Clock clock;
    private final AutoCloseable resource;
    private final Map<String, Answer> answers = new HashMap<>();

    /** Asks {@code lookup} whether a topic exists; {@link #partitions} then knows no counts. */
    public TopicDirectory(Lookup lookup, Clock clock, AutoCloseable resource) {
        this(counts(lookup), clock, resource);
    }

    private TopicDirectory(Describer describer, Clock clock, AutoCloseable resource) {
        this.describer = describer;
        this.clock = clock;
        this.resource = resource;
    }

    /** Asks {@code describer} whether a topic exists and how many partitions it has. */
    public static TopicDirectory describing(Describer describer, Clock clock, AutoCloseable resource) {
        return new TopicDirectory(describer, clock, resource);
    }

    private static Describer counts(Lookup lookup) {
        return topic -> lookup.exists(topic) ? UNKNOWN : 0;
    }

    /** Asks the cluster at {@code bootstrapServers} through an admin client of its own, closed with the directory. */
    public static TopicDirectory of(String bootstrapServers, String clientId) {
        Admin admin = Admin.create(KafkaClientSettings.with(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.CLIENT_ID_CONFIG, clientId,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ASK_TIMEOUT.toMillis(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) ASK_TIMEOUT.toMillis())));
        return describing(topic -> describe(admin, topic), Clock.systemUTC(), () -> admin.close(Duration.ofSeconds(5)));
    }

    private static int describe(Admin admin, String topic) throws Exception {
        KafkaFuture<TopicDescription> f = admin.describeTopics(java.util.List.of(topic)).topicNameValues().get(topic);
        try {
            return Math.max(1, f.get(ASK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).partitions().size());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) return 0;
            throw e;
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer about topic '" + topic + "' within " + ASK_TIMEOUT.toMillis() + " ms", e);
        }
    }

    /** Whether {@code topic} exists (true when the cluster cannot say). */
    public boolean exists(String topic) {
        Answer a = answer(topic);
        return a == null || a.exists();
    }

    /** How many partitions {@code topic} has; empty when it does not exist, the cluster cannot say, or this directory knows no counts. */
    public OptionalInt partitions(String topic) {
        Answer a = answer(topic);
        return a == null || a.partitions() <= 0 ? OptionalInt.empty() : OptionalInt.of(a.partitions());
    }

    /** The remembered or a fresh answer; null when the cluster cannot be asked (nothing remembered then). */
    private Answer answer(String topic) {
        long now = clock.millis();
        synchronized (this) {
            Answer a = answers.get(topic);
            if (a != null && now < a.until()) return a;
        }
        int partitions;
        try {
            partitions = describer.partitions(topic);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            return null; // unknown: not remembered, asked again next time
        }
        Answer a = new Answer(partitions, now + (partitions != 0 ? FOUND_FOR : MISSING_FOR).toMillis());
        synchronized (this) {
            answers.put(topic, a);
        }
        return a;
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
