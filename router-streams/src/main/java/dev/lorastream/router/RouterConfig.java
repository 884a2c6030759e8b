package dev.lorastream.router;

import dev.lorastream.router.internal.DeadLetterExceptionHandler;
import dev.lorastream.schemas.ops.GroupMembership;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The router's configuration: every key with its type, default, validator and doc line
 * ({@link #configDef()}). Contradictory settings are refused at construction with a
 * {@link ConfigException} that names the keys. Kafka Streams settings the router does not own can be
 * passed through with the {@value #STREAMS_PREFIX} prefix (e.g. {@code streams.commit.interval.ms}).
 */
public final class RouterConfig extends AbstractConfig {
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";
    public static final String APPLICATION_ID = "application.id";
    public static final String STATE_DIR = "state.dir";
    public static final String NUM_STREAM_THREADS = "num.stream.threads";
    public static final String PROCESSING_GUARANTEE = "processing.guarantee";
    public static final String MAX_PROMPT_CHARS = "router.max.prompt.chars";
    public static final String MAX_PROMPT_TOKEN_IDS = "router.max.prompt.token.ids";
    public static final String MAX_NEW_TOKENS_LIMIT = "router.max.new.tokens.limit";
    public static final String MAX_CONTEXT_TOKENS = "router.max.context.tokens";
    public static final String START_TIMEOUT_MS = "router.start.timeout.ms";
    public static final String CLOSE_TIMEOUT_MS = "router.close.timeout.ms";
    public static final String MAX_THREAD_REPLACEMENTS = "router.max.thread.replacements";
    public static final String PLACEMENT = "router.placement";
    public static final String WORKER_TIMEOUT_MS = "router.placement.worker.timeout.ms";
    public static final String BUSY_AT = "router.placement.busy.at";
    public static final String REPLY_TOPIC_PATTERN = "router.reply.topic.pattern";
    public static final String DEDUPE_WINDOW_MS = "router.dedupe.window.ms";
    public static final String PLACEMENT_LOAD_AWARE = "load-aware", PLACEMENT_HASH = "hash";
    public static final String INSTANCE_ID = "instance.id";
    public static final String SESSION_TIMEOUT_MS = "session.timeout.ms";
    public static final String LEAVE_GROUP_ON_CLOSE = "group.leave.on.close";

    /** Prefix of Kafka Streams settings passed through unchanged (minus the prefix). */
    public static final String STREAMS_PREFIX = "streams.";
    /**
     * Kafka Streams' commit interval unless {@code streams.commit.interval.ms} says otherwise: under
     * exactly_once_v2 a routed request is visible to the workers only when the router's transaction
     * commits, so Kafka's 100 ms default added ~100 ms to every request's time to first token;
     * 5 ms (with {@link #DEFAULT_PRODUCER_LINGER_MS}) measured best on this machine (docs/benchmarks/streaming.md:
     * committing after every poll costs more at 8 in flight, 10 ms more at 1; a shorter {@code poll.ms} did worse).
     */
    public static final long DEFAULT_COMMIT_INTERVAL_MS = 5;
    /**
     * The router's producer's {@code linger.ms} unless {@code streams.producer.linger.ms} says otherwise: a routed
     * request is sent at once, its produce overlapping the wait for the commit (Kafka Streams' 100 ms left it to the
     * commit's flush). Batches still form while sends are in flight and between commits.
     */
    public static final long DEFAULT_PRODUCER_LINGER_MS = 0;

    public static final String DEFAULT_APPLICATION_ID = dev.lorastream.schemas.topic.Groups.ROUTER;
    public static final String DEFAULT_STATE_DIR = Path.of(System.getProperty("java.io.tmpdir"), "lorastream-router").toString();

    private static final Pattern APPLICATION_ID_CHARS = Pattern.compile("[A-Za-z0-9._-]+");
    private static final Pattern HOST_PORT = Pattern.compile("[^:\\s]+:\\d{1,5}|\\[[0-9A-Fa-f:.]+]:\\d{1,5}");

    /** Streams keys set by this class; a {@code streams.} override of one of them is a contradiction. */
    private static final Set<String> OWNED_STREAMS_KEYS = Set.of(
            StreamsConfig.APPLICATION_ID_CONFIG, StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, StreamsConfig.STATE_DIR_CONFIG,
            StreamsConfig.NUM_STREAM_THREADS_CONFIG, StreamsConfig.PROCESSING_GUARANTEE_CONFIG,
            StreamsConfig.DEFAULT_DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
            StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
            StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG,
            ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, SESSION_TIMEOUT_MS);

    private static final ConfigDef CONFIG = new ConfigDef()
            .define(BOOTSTRAP_SERVERS, Type.LIST, ConfigDef.NO_DEFAULT_VALUE, RouterConfig::validateHostPorts, Importance.HIGH,
                    "Kafka brokers to bootstrap from, as host:port[,host:port...].")
            .define(SCHEMA_REGISTRY_URL, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, RouterConfig::validateHttpUrl, Importance.HIGH,
                    "Confluent-compatible schema registry base URL (Confluent root, or Apicurio's /apis/ccompat/v7).")
            .define(APPLICATION_ID, Type.STRING, DEFAULT_APPLICATION_ID, RouterConfig::validateApplicationId, Importance.HIGH,
                    "Kafka Streams application id: consumer group, transactional id prefix and state directory name.")
            .define(STATE_DIR, Type.STRING, DEFAULT_STATE_DIR, new ConfigDef.NonEmptyStringWithoutControlChars(), Importance.MEDIUM,
                    "Directory for Kafka Streams task state: the request ids seen within router.dedupe.window.ms (RocksDB, restored from its changelog).")
            .define(NUM_STREAM_THREADS, Type.INT, 1, ConfigDef.Range.between(1, 256), Importance.MEDIUM,
                    "Stream threads in this instance; more instances scale further.")
            .define(PROCESSING_GUARANTEE, Type.STRING, StreamsConfig.EXACTLY_ONCE_V2,
                    ConfigDef.ValidString.in(StreamsConfig.EXACTLY_ONCE_V2, StreamsConfig.AT_LEAST_ONCE), Importance.MEDIUM,
                    "exactly_once_v2: a request is routed or dead-lettered exactly once; at_least_once may repeat after a crash.")
            .define(MAX_PROMPT_CHARS, Type.INT, 32_768, ConfigDef.Range.atLeast(1), Importance.MEDIUM,
                    "Longest text prompt accepted, in Unicode code points.")
            .define(MAX_PROMPT_TOKEN_IDS, Type.INT, 8_192, ConfigDef.Range.atLeast(1), Importance.MEDIUM,
                    "Most prompt token ids accepted in one request.")
            .define(MAX_NEW_TOKENS_LIMIT, Type.INT, 4_096, ConfigDef.Range.atLeast(1), Importance.MEDIUM,
                    "Largest params.max_new_tokens accepted.")
            .define(MAX_CONTEXT_TOKENS, Type.INT, 16_384, ConfigDef.Range.atLeast(2), Importance.LOW,
                    "Context window of the backbone the workers serve: a prompt of " + MAX_PROMPT_TOKEN_IDS
                            + " ids plus " + MAX_NEW_TOKENS_LIMIT + " new tokens must fit in it.")
            .define(START_TIMEOUT_MS, Type.LONG, 60_000L, ConfigDef.Range.atLeast(1), Importance.LOW,
                    "How long RouterApp.start() waits for Kafka Streams to reach RUNNING.")
            .define(CLOSE_TIMEOUT_MS, Type.LONG, 30_000L, ConfigDef.Range.atLeast(0), Importance.LOW,
                    "How long RouterApp.close() waits for Kafka Streams to stop.")
            .define(MAX_THREAD_REPLACEMENTS, Type.INT, 5, ConfigDef.Range.atLeast(0), Importance.LOW,
                    "Stream threads replaced after a retriable failure (registry or broker unreachable) per minute before the"
                            + " router shuts down; a record is never skipped for a retriable failure.")
            .define(PLACEMENT, Type.STRING, PLACEMENT_LOAD_AWARE, ConfigDef.ValidString.in(PLACEMENT_LOAD_AWARE, PLACEMENT_HASH), Importance.HIGH,
                    "load-aware: each adapter's requests go to a worker that holds it and has room, by the workers' heartbeats on "
                            + "workers.status (hot adapters spread over several workers; hashing while no worker reports); hash: murmur2 of the adapter id.")
            .define(WORKER_TIMEOUT_MS, Type.LONG, 3_000L, ConfigDef.Range.atLeast(100), Importance.MEDIUM,
                    "A worker whose last heartbeat is older than this (or than three of its own heartbeat intervals) is gone for placement.")
            .define(INSTANCE_ID, Type.STRING, null, Importance.MEDIUM,
                    "Stable id of this router instance: its stream threads are static members of the application's group under "
                            + "<id>-<thread> (group.instance.id), so a router restarted within session.timeout.ms gets its partitions back "
                            + "without a rebalance. Default: derived from the host name and the state directory (the same after a restart; "
                            + "a second instance sharing both stays dynamic); '" + GroupMembership.DYNAMIC + "': dynamic membership.")
            .define(SESSION_TIMEOUT_MS, Type.INT, (int) GroupMembership.DEFAULT_SESSION_TIMEOUT.toMillis(), ConfigDef.Range.between(1_000, 1_800_000),
                    Importance.MEDIUM, "A router that dies without leaving its group loses its partitions after this and they are routed by "
                            + "the other instances (heartbeats every quarter of it; the broker's group.min.session.timeout.ms, 6000 by default, bounds it below).")
            .define(LEAVE_GROUP_ON_CLOSE, Type.BOOLEAN, true, Importance.LOW,
                    "true: a router that is stopped leaves its group, its partitions are handed over at once (scaling down); false: they stay "
                            + "reserved for it until session.timeout.ms, for a restart in place without a rebalance.")
            .define(BUSY_AT, Type.DOUBLE, 0.85, ConfigDef.Range.between(0.05, 100), Importance.LOW,
                    "Requests per row of a worker's forward pass at which placement counts it busy and looks elsewhere (1.0: every row "
                            + "taken; 0.85 by default: a hot adapter spills to a replica before its holders run full, docs/benchmarks/placement.md).")
            .define(REPLY_TOPIC_PATTERN, Type.STRING, dev.lorastream.schemas.topic.Topics.DEFAULT_REPLY_TOPIC_PATTERN, RouterConfig::validateRegex,
                    Importance.MEDIUM, "Regular expression a request's reply_topic must match as a whole (besides being a legal topic that exists and is "
                            + "not internal or another pipeline topic); others are refused with field reply_topic. Give the workers the same reply.topic.pattern.")
            .define(DEDUPE_WINDOW_MS, Type.LONG, 600_000L, ConfigDef.Range.between(1_000L, 7L * 24 * 3_600_000L), Importance.MEDIUM,
                    "How long a request_id is remembered: a request with an id seen within it is not served again (the same tenant's "
                            + "duplicate is dead-lettered, another tenant's is also answered DUPLICATE_REQUEST_ID).");

    public RouterConfig(Map<String, ?> props) {
        super(CONFIG, props, false);
        rejectContradictions();
    }

    /** The keys, types, defaults, validators and docs. */
    public static ConfigDef configDef() { return new ConfigDef(CONFIG); }

    /** A config with the two required keys and every other key at its default. */
    public static RouterConfig of(String bootstrapServers, String schemaRegistryUrl) {
        return new RouterConfig(Map.of(BOOTSTRAP_SERVERS, bootstrapServers, SCHEMA_REGISTRY_URL, schemaRegistryUrl));
    }

    public String bootstrapServers() { return String.join(",", getList(BOOTSTRAP_SERVERS)); }
    public String schemaRegistryUrl() { return getString(SCHEMA_REGISTRY_URL); }
    public String applicationId() { return getString(APPLICATION_ID); }
    public Path stateDir() { return Path.of(getString(STATE_DIR)); }
    public int numStreamThreads() { return getInt(NUM_STREAM_THREADS); }
    public String processingGuarantee() { return getString(PROCESSING_GUARANTEE); }
    public int maxPromptChars() { return getInt(MAX_PROMPT_CHARS); }
    public int maxPromptTokenIds() { return getInt(MAX_PROMPT_TOKEN_IDS); }
    public int maxNewTokensLimit() { return getInt(MAX_NEW_TOKENS_LIMIT); }
    public int maxContextTokens() { return getInt(MAX_CONTEXT_TOKENS); }
    public Duration startTimeout() { return Duration.ofMillis(getLong(START_TIMEOUT_MS)); }
    public Duration closeTimeout() { return Duration.ofMillis(getLong(CLOSE_TIMEOUT_MS)); }
    public int maxThreadReplacements() { return getInt(MAX_THREAD_REPLACEMENTS); }
    public boolean loadAwarePlacement() { return PLACEMENT_LOAD_AWARE.equals(getString(PLACEMENT)); }
    public Duration workerTimeout() { return Duration.ofMillis(getLong(WORKER_TIMEOUT_MS)); }
    public double busyAt() { return getDouble(BUSY_AT); }
    /** The configured instance id: null (derive one), {@value GroupMembership#DYNAMIC} or an id ({@link GroupMembership#claim}). */
    public String configuredInstanceId() { return getString(INSTANCE_ID); }
    public Duration sessionTimeout() { return Duration.ofMillis(getInt(SESSION_TIMEOUT_MS)); }
    public boolean leaveGroupOnClose() { return getBoolean(LEAVE_GROUP_ON_CLOSE); }
    /** The file that holds a derived instance id while the router runs: one per state directory and application. */
    public Path instanceLockFile() { return stateDir().resolve(applicationId() + ".instance.lock"); }
    public Pattern replyTopicPattern() { return Pattern.compile(getString(REPLY_TOPIC_PATTERN)); }
    public Duration dedupeWindow() { return Duration.ofMillis(getLong(DEDUPE_WINDOW_MS)); }

    /**
     * Kafka Streams properties: the router's own keys, both exception handlers set explicitly to
     * {@link DeadLetterExceptionHandler}, the registry URL (which the handler reads), and the
     * {@code streams.} pass-through settings.
     */
    public Properties toStreamsProperties() { return toStreamsProperties(null); }

    /**
     * The same with group membership: static under {@code instanceId} (Streams appends each thread's index), dynamic
     * when it is null; session timeout and heartbeats from {@link #SESSION_TIMEOUT_MS} (a {@code streams.heartbeat.interval.ms}
     * overrides the heartbeat).
     */
    public Properties toStreamsProperties(String instanceId) {
        Properties props = new Properties();
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, DEFAULT_COMMIT_INTERVAL_MS);
        props.put(StreamsConfig.producerPrefix(org.apache.kafka.clients.producer.ProducerConfig.LINGER_MS_CONFIG), DEFAULT_PRODUCER_LINGER_MS);
        props.putAll(GroupMembership.streams(instanceId, sessionTimeout()));
        props.putAll(originalsWithPrefix(STREAMS_PREFIX));
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId());
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(StreamsConfig.STATE_DIR_CONFIG, getString(STATE_DIR));
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, numStreamThreads());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, processingGuarantee());
        props.put(StreamsConfig.DEFAULT_DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterExceptionHandler.class.getName());
        props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterExceptionHandler.class.getName());
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterExceptionHandler.class.getName());
        props.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterExceptionHandler.class.getName());
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        props.put(SCHEMA_REGISTRY_URL, schemaRegistryUrl());
        return props;
    }

    private void rejectContradictions() {
        long worstCase = (long) maxPromptTokenIds() + maxNewTokensLimit();
        if (worstCase > maxContextTokens()) {
            throw new ConfigException(MAX_PROMPT_TOKEN_IDS + " (" + maxPromptTokenIds() + ") + " + MAX_NEW_TOKENS_LIMIT + " ("
                    + maxNewTokensLimit() + ") = " + worstCase + " exceeds " + MAX_CONTEXT_TOKENS + " (" + maxContextTokens()
                    + "): a request the router accepts could never fit the backbone's context window");
        }
        for (String key : originalsWithPrefix(STREAMS_PREFIX).keySet()) {
            if (!OWNED_STREAMS_KEYS.contains(key)) continue;
            String instead = key.equals(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG) ? "set " + INSTANCE_ID + " instead"
                    : CONFIG.names().contains(key)
                    ? "set " + key + " instead"
                    : "the router always uses its dead-letter handler for " + key;
            throw new ConfigException(STREAMS_PREFIX + key + " contradicts the router's own setting of " + key + ": " + instead);
        }
    }

    private static void validateHostPorts(String name, Object value) {
        List<?> entries = (List<?>) value;
        if (entries == null || entries.isEmpty()) throw new ConfigException(name, value, "at least one host:port is needed");
        for (Object entry : entries) {
            String s = String.valueOf(entry).trim();
            if (!HOST_PORT.matcher(s).matches()) throw new ConfigException(name, value, "'" + s + "' is not host:port");
            int port = Integer.parseInt(s.substring(s.lastIndexOf(':') + 1));
            if (port < 1 || port > 65_535) throw new ConfigException(name, value, "port " + port + " is outside 1..65535");
        }
    }

    private static void validateHttpUrl(String name, Object value) {
        String s = value == null ? "" : value.toString();
        try {
            URI uri = new URI(s);
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                throw new ConfigException(name, value, "must be an http:// or https:// URL with a host");
            }
        } catch (java.net.URISyntaxException e) {
            throw new ConfigException(name, value, "not a URL: " + e.getMessage());
        }
    }

    private static void validateRegex(String name, Object value) {
        String s = value == null ? "" : value.toString();
        if (s.isEmpty()) throw new ConfigException(name, value, "must be a non-empty regular expression");
        try {
            Pattern.compile(s);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new ConfigException(name, value, "is not a regular expression: " + e.getDescription() + " at index " + e.getIndex());
        }
    }

    private static void validateApplicationId(String name, Object value) {
        String s = value == null ? "" : value.toString();
        if (!APPLICATION_ID_CHARS.matcher(s).matches() || s.length() > 200) {
            throw new ConfigException(name, value, "must be 1 to 200 characters of [A-Za-z0-9._-]");
        }
    }
}
