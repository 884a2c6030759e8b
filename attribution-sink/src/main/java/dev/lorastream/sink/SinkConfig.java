package dev.lorastream.sink;

import dev.lorastream.schemas.config.ConfigChecks;
import dev.lorastream.schemas.ops.GroupMembership;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of an {@link AttributionSink}: each key with its type, default, validator and doc
 * ({@link #DEFINITION}). Built from a map ({@link #from(Map)}) or with {@link #builder(String, String)};
 * invalid values and contradictory settings are refused with a {@link ConfigException} naming the keys.
 */
public final class SinkConfig {
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";
    public static final String GROUP_ID = "group.id";
    public static final String DATA_DIR = "data.dir";
    public static final String TOPIC = "topic";
    public static final String DLQ_TOPIC = "dlq.topic";
    public static final String FLUSH_INTERVAL_MS = "flush.interval.ms";
    public static final String BATCH_SIZE = "batch.size";
    public static final String POLL_TIMEOUT_MS = "poll.timeout.ms";
    public static final String PARQUET_EXPORT = "parquet.export";
    public static final String INSTANCE_ID = "instance.id";
    public static final String SESSION_TIMEOUT_MS = "session.timeout.ms";
    public static final String LEAVE_GROUP_ON_CLOSE = "group.leave.on.close";

    public static final String DEFAULT_GROUP_ID = dev.lorastream.schemas.topic.Groups.SINK;

    public static final ConfigDef DEFINITION = new ConfigDef()
            .define(BOOTSTRAP_SERVERS, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyStringWithoutControlChars(),
                    Importance.HIGH, "Kafka bootstrap servers, host:port[,host:port...].")
            .define(SCHEMA_REGISTRY_URL, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, ConfigChecks::httpUrl,
                    Importance.HIGH, "Schema registry base URL (Confluent root, or Apicurio's /apis/ccompat/v7).")
            .define(GROUP_ID, Type.STRING, DEFAULT_GROUP_ID, new ConfigDef.NonEmptyStringWithoutControlChars(),
                    Importance.MEDIUM, "Consumer group of the sink; sink instances of one group share the topic's partitions.")
            .define(DATA_DIR, Type.STRING, "data", SinkConfig::validateDir,
                    Importance.HIGH, "Directory of the DuckDB file (attribution.duckdb) and the Parquet files (parquet/...); created if missing.")
            .define(TOPIC, Type.STRING, Topics.ATTRIBUTION, ConfigChecks::topicName,
                    Importance.LOW, "Topic of AttributionEvent records the sink consumes.")
            .define(DLQ_TOPIC, Type.STRING, Topics.DLQ, ConfigChecks::topicName,
                    Importance.LOW, "Topic that receives a DeadLetter for every record the sink cannot decode or accept.")
            .define(FLUSH_INTERVAL_MS, Type.LONG, 1_000L, ConfigDef.Range.between(1, 3_600_000),
                    Importance.MEDIUM, "Longest time a consumed record waits in memory before its batch is written and its offset committed.")
            .define(BATCH_SIZE, Type.INT, 500, ConfigDef.Range.between(1, 100_000),
                    Importance.MEDIUM, "Records written in one DuckDB transaction at most; a full batch is written at once.")
            .define(POLL_TIMEOUT_MS, Type.LONG, 200L, ConfigDef.Range.between(1, 60_000),
                    Importance.LOW, "Longest a single consumer poll blocks; must not exceed " + FLUSH_INTERVAL_MS + ".")
            .define(PARQUET_EXPORT, Type.BOOLEAN, true, null,
                    Importance.MEDIUM, "Whether each committed batch's new rows are also written as Parquet files under <data.dir>/parquet; "
                            + "the usage report reads them while a running sink holds the DuckDB file.")
            .define(INSTANCE_ID, Type.STRING, null, Importance.MEDIUM,
                    "Stable id of this sink instance: a static member of its group under it (group.instance.id), so a sink restarted within "
                            + SESSION_TIMEOUT_MS + " gets its partitions back without a rebalance. Default: derived from the host name and "
                            + DATA_DIR + " (the same after a restart); '" + GroupMembership.DYNAMIC + "': dynamic membership.")
            .define(SESSION_TIMEOUT_MS, Type.INT, (int) GroupMembership.DEFAULT_SESSION_TIMEOUT.toMillis(), ConfigDef.Range.between(1_000, 1_800_000),
                    Importance.MEDIUM, "A sink that dies without leaving its group loses its partitions after this and the other instances "
                            + "take them (heartbeats every quarter of it; the broker's group.min.session.timeout.ms, 6000 by default, bounds it below).")
            .define(LEAVE_GROUP_ON_CLOSE, Type.BOOLEAN, true, null, Importance.LOW,
                    "true: a sink that is stopped leaves its group, its partitions are handed over at once; false: they stay reserved for it "
                            + "until " + SESSION_TIMEOUT_MS + ", for a restart in place without a rebalance.");

    private final String bootstrapServers;
    private final String schemaRegistryUrl;
    private final String groupId;
    private final Path dataDir;
    private final String topic;
    private final String dlqTopic;
    private final Duration flushInterval;
    private final int batchSize;
    private final Duration pollTimeout;
    private final boolean parquetExport;
    private final String instanceId;
    private final Duration sessionTimeout;
    private final boolean leaveGroupOnClose;

    private SinkConfig(AbstractConfig parsed) {
        bootstrapServers = parsed.getString(BOOTSTRAP_SERVERS).trim();
        schemaRegistryUrl = parsed.getString(SCHEMA_REGISTRY_URL).trim();
        groupId = parsed.getString(GROUP_ID);
        dataDir = Path.of(parsed.getString(DATA_DIR).trim());
        topic = parsed.getString(TOPIC);
        dlqTopic = parsed.getString(DLQ_TOPIC);
        flushInterval = Duration.ofMillis(parsed.getLong(FLUSH_INTERVAL_MS));
        batchSize = parsed.getInt(BATCH_SIZE);
        pollTimeout = Duration.ofMillis(parsed.getLong(POLL_TIMEOUT_MS));
        parquetExport = parsed.getBoolean(PARQUET_EXPORT);
        instanceId = parsed.getString(INSTANCE_ID);
        sessionTimeout = Duration.ofMillis(parsed.getInt(SESSION_TIMEOUT_MS));
        leaveGroupOnClose = parsed.getBoolean(LEAVE_GROUP_ON_CLOSE);
        ConfigChecks.requireDistinctTopics(TOPIC, topic, DLQ_TOPIC, dlqTopic,
                "the sink would dead-letter records into the topic it reads");
        if (pollTimeout.compareTo(flushInterval) > 0) {
            throw new ConfigException(POLL_TIMEOUT_MS + "=" + pollTimeout.toMillis() + " exceeds " + FLUSH_INTERVAL_MS + "="
                    + flushInterval.toMillis() + "; a poll that blocks longer than the flush interval cannot keep it");
        }
    }

    /** Reads the keys of {@link #DEFINITION} from a map (values as strings or typed); unknown keys are refused. */
    public static SinkConfig from(Map<String, ?> props) {
        return new SinkConfig(ConfigChecks.parseKnown(DEFINITION, props, "attribution sink"));
    }

    public static Builder builder(String bootstrapServers, String schemaRegistryUrl) {
        return new Builder(bootstrapServers, schemaRegistryUrl);
    }

    public String bootstrapServers() { return bootstrapServers; }
    public String schemaRegistryUrl() { return schemaRegistryUrl; }
    public String groupId() { return groupId; }
    public Path dataDir() { return dataDir; }
    public String topic() { return topic; }
    public String dlqTopic() { return dlqTopic; }
    public Duration flushInterval() { return flushInterval; }
    public int batchSize() { return batchSize; }
    public Duration pollTimeout() { return pollTimeout; }
    public boolean parquetExport() { return parquetExport; }
    /** The configured instance id: null (derive one), {@value GroupMembership#DYNAMIC} or an id ({@link GroupMembership#claim}). */
    public String configuredInstanceId() { return instanceId; }
    public Duration sessionTimeout() { return sessionTimeout; }
    public boolean leaveGroupOnClose() { return leaveGroupOnClose; }
    /** The file that holds a derived instance id while the sink runs, in its data directory. */
    public Path instanceLockFile() { return dataDir.resolve(".instance.lock"); }

    @Override
    public String toString() {
        return "SinkConfig{" + BOOTSTRAP_SERVERS + "=" + bootstrapServers + ", " + SCHEMA_REGISTRY_URL + "=" + schemaRegistryUrl
                + ", " + GROUP_ID + "=" + groupId + ", " + DATA_DIR + "=" + dataDir + ", " + TOPIC + "=" + topic
                + ", " + DLQ_TOPIC + "=" + dlqTopic + ", " + FLUSH_INTERVAL_MS + "=" + flushInterval.toMillis()
                + ", " + BATCH_SIZE + "=" + batchSize + ", " + POLL_TIMEOUT_MS + "=" + pollTimeout.toMillis()
                + ", " + PARQUET_EXPORT + "=" + parquetExport + ", " + INSTANCE_ID + "=" + instanceId
                + ", " + SESSION_TIMEOUT_MS + "=" + sessionTimeout.toMillis() + ", " + LEAVE_GROUP_ON_CLOSE + "=" + leaveGroupOnClose + "}";
    }

    private static void validateDir(String key, Object value) {
        if (!(value instanceof String s) || s.isBlank()) throw new ConfigException(key, value, "must be a directory path");
        Path path;
        try {
            path = Path.of(s.trim());
        } catch (InvalidPathException e) {
            throw new ConfigException(key, value, "is not a valid path: " + e.getMessage());
        }
        if (Files.exists(path) && !Files.isDirectory(path)) {
            throw new ConfigException(key, value, "exists and is not a directory");
        }
    }

    /** Fluent construction over the same keys and validation as {@link #from(Map)}. */
    public static final class Builder {
        private final Map<String, Object> props = new HashMap<>();

        private Builder(String bootstrapServers, String schemaRegistryUrl) {
            props.put(BOOTSTRAP_SERVERS, Objects.requireNonNullElse(bootstrapServers, ""));
            props.put(SCHEMA_REGISTRY_URL, Objects.requireNonNullElse(schemaRegistryUrl, ""));
        }

        public Builder groupId(String groupId) { props.put(GROUP_ID, groupId); return this; }
        public Builder dataDir(Path dir) { props.put(DATA_DIR, dir.toString()); return this; }
        public Builder topic(String topic) { props.put(TOPIC, topic); return this; }
        public Builder dlqTopic(String topic) { props.put(DLQ_TOPIC, topic); return this; }
        public Builder flushInterval(Duration interval) { props.put(FLUSH_INTERVAL_MS, interval.toMillis()); return this; }
        public Builder batchSize(int size) { props.put(BATCH_SIZE, size); return this; }
        public Builder pollTimeout(Duration timeout) { props.put(POLL_TIMEOUT_MS, timeout.toMillis()); return this; }
        public Builder parquetExport(boolean enabled) { props.put(PARQUET_EXPORT, enabled); return this; }
        public Builder instanceId(String id) { props.put(INSTANCE_ID, id); return this; }
        public Builder sessionTimeout(Duration timeout) { props.put(SESSION_TIMEOUT_MS, (int) timeout.toMillis()); return this; }

        public SinkConfig build() { return from(props); }
    }
}
