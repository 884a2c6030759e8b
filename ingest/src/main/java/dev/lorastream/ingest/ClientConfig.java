package dev.lorastream.ingest;

import dev.lorastream.schemas.config.ConfigChecks;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of an {@link InferenceClient}: each key with its type, default, validator and doc
 * ({@link #DEFINITION}). Built from a map ({@link #from(Map)}) or with {@link #builder(String, String)};
 * invalid values and contradictory settings are refused with a {@link ConfigException} naming the keys.
 */
public final class ClientConfig {
    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";
    public static final String REQUEST_TOPIC = "request.topic";
    public static final String REPLY_TOPIC = "reply.topic";
    public static final String DLQ_TOPIC = "dlq.topic";
    public static final String CATALOG_TOPIC = "catalog.topic";
    public static final String DEFAULT_TIMEOUT_MS = "default.timeout.ms";
    public static final String CLIENT_ID = "client.id";

    public static final ConfigDef DEFINITION = new ConfigDef()
            .define(BOOTSTRAP_SERVERS, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, ConfigChecks::hostPorts,
                    Importance.HIGH, "Kafka bootstrap servers, host:port[,host:port...].")
            .define(SCHEMA_REGISTRY_URL, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, ConfigChecks::httpUrl,
                    Importance.HIGH, "Schema registry base URL (Confluent root, or Apicurio's /apis/ccompat/v7).")
            .define(REQUEST_TOPIC, Type.STRING, Topics.REQUESTS, ConfigChecks::topicName,
                    Importance.MEDIUM, "Topic the client writes InferenceRequest events to.")
            .define(REPLY_TOPIC, Type.STRING, Topics.RESPONSES, ConfigChecks::topicName,
                    Importance.MEDIUM, "Topic the client reads InferenceResponse events from; created if missing.")
            .define(DLQ_TOPIC, Type.STRING, Topics.DLQ, ConfigChecks::topicName,
                    Importance.LOW, "Topic for DeadLetter events about input the ingest side refused.")
            .define(CATALOG_TOPIC, Type.STRING, Topics.ADAPTER_CATALOG, ConfigChecks::topicName,
                    Importance.LOW, "Compacted topic of AdapterDescriptor events, read into a map in the background.")
            .define(DEFAULT_TIMEOUT_MS, Type.LONG, 60_000L, ConfigDef.Range.between(1, 24L * 3600 * 1000),
                    Importance.MEDIUM, "How long a submitted request waits for its response unless the caller says otherwise.")
            .define(CLIENT_ID, Type.STRING, "lorastream-ingest", new ConfigDef.NonEmptyStringWithoutControlChars(),
                    Importance.LOW, "Client id of the producer and consumers (suffixed per role).");

    private final String bootstrapServers;
    private final String schemaRegistryUrl;
    private final String requestTopic;
    private final String replyTopic;
    private final String dlqTopic;
    private final String catalogTopic;
    private final Duration defaultTimeout;
    private final String clientId;

    private ClientConfig(AbstractConfig parsed) {
        bootstrapServers = parsed.getString(BOOTSTRAP_SERVERS).trim();
        schemaRegistryUrl = parsed.getString(SCHEMA_REGISTRY_URL).trim();
        requestTopic = parsed.getString(REQUEST_TOPIC);
        replyTopic = parsed.getString(REPLY_TOPIC);
        dlqTopic = parsed.getString(DLQ_TOPIC);
        catalogTopic = parsed.getString(CATALOG_TOPIC);
        defaultTimeout = Duration.ofMillis(parsed.getLong(DEFAULT_TIMEOUT_MS));
        clientId = parsed.getString(CLIENT_ID);
        ConfigChecks.requireDistinctTopics(REQUEST_TOPIC, requestTopic, REPLY_TOPIC, replyTopic);
        ConfigChecks.requireDistinctTopics(REQUEST_TOPIC, requestTopic, DLQ_TOPIC, dlqTopic);
        ConfigChecks.requireDistinctTopics(REPLY_TOPIC, replyTopic, DLQ_TOPIC, dlqTopic);
        ConfigChecks.requireDistinctTopics(CATALOG_TOPIC, catalogTopic, REPLY_TOPIC, replyTopic);
    }

    /** Reads the keys of {@link #DEFINITION} from a map (values as strings or typed); unknown keys are refused. */
    public static ClientConfig from(Map<String, ?> props) {
        return new ClientConfig(ConfigChecks.parseKnown(DEFINITION, props, "ingest client"));
    }

    public static Builder builder(String bootstrapServers, String schemaRegistryUrl) {
        return new Builder(bootstrapServers, schemaRegistryUrl);
    }

    public String bootstrapServers() { return bootstrapServers; }
    public String schemaRegistryUrl() { return schemaRegistryUrl; }
    public String requestTopic() { return requestTopic; }
    public String replyTopic() { return replyTopic; }
    public String dlqTopic() { return dlqTopic; }
    public String catalogTopic() { return catalogTopic; }
    public Duration defaultTimeout() { return defaultTimeout; }
    public String clientId() { return clientId; }

    @Override
    public String toString() {
        return "ClientConfig{" + BOOTSTRAP_SERVERS + "=" + bootstrapServers + ", " + SCHEMA_REGISTRY_URL + "=" + schemaRegistryUrl
                + ", " + REQUEST_TOPIC + "=" + requestTopic + ", " + REPLY_TOPIC + "=" + replyTopic + ", " + DLQ_TOPIC + "=" + dlqTopic
                + ", " + CATALOG_TOPIC + "=" + catalogTopic + ", " + DEFAULT_TIMEOUT_MS + "=" + defaultTimeout.toMillis()
                + ", " + CLIENT_ID + "=" + clientId + "}";
    }

    /** Fluent construction over the same keys and validation as {@link #from(Map)}. */
    public static final class Builder {
        private final Map<String, Object> props = new HashMap<>();

        private Builder(String bootstrapServers, String schemaRegistryUrl) {
            props.put(BOOTSTRAP_SERVERS, Objects.requireNonNullElse(bootstrapServers, ""));
            props.put(SCHEMA_REGISTRY_URL, Objects.requireNonNullElse(schemaRegistryUrl, ""));
        }

        public Builder requestTopic(String topic) { props.put(REQUEST_TOPIC, topic); return this; }
        public Builder replyTopic(String topic) { props.put(REPLY_TOPIC, topic); return this; }
        public Builder dlqTopic(String topic) { props.put(DLQ_TOPIC, topic); return this; }
        public Builder catalogTopic(String topic) { props.put(CATALOG_TOPIC, topic); return this; }
        public Builder defaultTimeout(Duration timeout) { props.put(DEFAULT_TIMEOUT_MS, timeout.toMillis()); return this; }
        public Builder clientId(String clientId) { props.put(CLIENT_ID, clientId); return this; }

        public ClientConfig build() { return from(props); }
    }
}
