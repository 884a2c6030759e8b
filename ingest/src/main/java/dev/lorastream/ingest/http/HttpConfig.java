package dev.lorastream.ingest.http;

import dev.lorastream.schemas.config.ConfigChecks;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Settings of the {@link OpenAiServer}: each key with type, default, validator and doc
 * ({@link #DEFINITION}); invalid values are refused with a {@link ConfigException} naming the key.
 */
public final class HttpConfig {
    public static final String HOST = "http.host";
    public static final String PORT = "http.port";
    public static final String MAX_BODY_BYTES = "http.max.body.bytes";
    public static final String REQUEST_TIMEOUT_MS = "http.request.timeout.ms";
    public static final String DEFAULT_TENANT = "http.default.tenant";
    public static final String DEFAULT_MAX_TOKENS = "http.default.max.tokens";
    public static final String BACKBONE_MODEL_NAME = "http.backbone.model.name";
    public static final String MAX_MODEL_LEN = "http.max.model.len";
    public static final String MAX_N = "http.max.n";

    public static final ConfigDef DEFINITION = new ConfigDef()
            .define(HOST, Type.STRING, "127.0.0.1", new ConfigDef.NonEmptyStringWithoutControlChars(), Importance.HIGH,
                    "Address to listen on (0.0.0.0 for every interface).")
            .define(PORT, Type.INT, 8000, Range.between(0, 65535), Importance.HIGH,
                    "Port to listen on; 0 picks a free one (see OpenAiServer.port()).")
            .define(MAX_BODY_BYTES, Type.INT, dev.lorastream.schemas.Limits.MAX_REQUEST_BYTES, Range.between(1, dev.lorastream.schemas.Limits.MAX_REQUEST_BYTES),
                    Importance.MEDIUM, "Largest request body accepted; larger ones get HTTP 413 (at most the pipeline's request limit, schemas.Limits).")
            .define(REQUEST_TIMEOUT_MS, Type.LONG, 60_000L, Range.between(1, 3_600_000L), Importance.MEDIUM,
                    "How long a request waits for its response before HTTP 504; also sent as the request's deadline.")
            .define(DEFAULT_TENANT, Type.STRING, "anonymous", new ConfigDef.NonEmptyStringWithoutControlChars(), Importance.MEDIUM,
                    "Tenant of requests that name none (no X-Tenant header, no 'user' field).")
            .define(DEFAULT_MAX_TOKENS, Type.INT, 16, Range.atLeast(1), Importance.LOW,
                    "max_tokens of requests that give none (OpenAI's completions default is 16).")
            .define(BACKBONE_MODEL_NAME, Type.STRING, "base", new ConfigDef.NonEmptyStringWithoutControlChars(), Importance.LOW,
                    "Model name under which the plain backbone is listed and requested.")
            .define(MAX_MODEL_LEN, Type.INT, 16_384, Range.atLeast(1), Importance.LOW,
                    "Context window (prompt + generated tokens) that GET /v1/models reports as max_model_len; set it to the router's router.max.context.tokens")
            .define(MAX_N, Type.INT, 8, Range.between(1, 128), Importance.LOW,
                    "Largest n (choices per request) accepted; each choice is its own request through Kafka, attributed on its own.");

    private final String host;
    private final int port;
    private final int maxBodyBytes;
    private final Duration requestTimeout;
    private final String defaultTenant;
    private final int defaultMaxTokens;
    private final String backboneModelName;
    private final int maxModelLen;
    private final int maxN;

    private HttpConfig(AbstractConfig parsed) {
        host = parsed.getString(HOST);
        port = parsed.getInt(PORT);
        maxBodyBytes = parsed.getInt(MAX_BODY_BYTES);
        requestTimeout = Duration.ofMillis(parsed.getLong(REQUEST_TIMEOUT_MS));
        defaultTenant = parsed.getString(DEFAULT_TENANT);
        defaultMaxTokens = parsed.getInt(DEFAULT_MAX_TOKENS);
        backboneModelName = parsed.getString(BACKBONE_MODEL_NAME);
        maxModelLen = parsed.getInt(MAX_MODEL_LEN);
        maxN = parsed.getInt(MAX_N);
    }

    /** Reads the keys of {@link #DEFINITION}; unknown keys are refused. */
    public static HttpConfig from(Map<String, ?> props) {
        return new HttpConfig(ConfigChecks.parseKnown(DEFINITION, props, "http"));
    }

    public static HttpConfig defaults() { return from(Map.of()); }

    public static Builder builder() { return new Builder(); }

    public String host() { return host; }
    public int port() { return port; }
    public int maxBodyBytes() { return maxBodyBytes; }
    public Duration requestTimeout() { return requestTimeout; }
    public String defaultTenant() { return defaultTenant; }
    public int defaultMaxTokens() { return defaultMaxTokens; }
    public String backboneModelName() { return backboneModelName; }
    public int maxModelLen() { return maxModelLen; }
    public int maxN() { return maxN; }

    /** Fluent construction over the same keys and validation as {@link #from(Map)}. */
    public static final class Builder {
        private final Map<String, Object> props = new HashMap<>();

        private Builder() {}

        public Builder host(String host) { props.put(HOST, host); return this; }
        public Builder port(int port) { props.put(PORT, port); return this; }
        public Builder maxBodyBytes(int bytes) { props.put(MAX_BODY_BYTES, bytes); return this; }
        public Builder requestTimeout(Duration timeout) { props.put(REQUEST_TIMEOUT_MS, timeout.toMillis()); return this; }
        public Builder defaultTenant(String tenant) { props.put(DEFAULT_TENANT, tenant); return this; }
        public Builder defaultMaxTokens(int tokens) { props.put(DEFAULT_MAX_TOKENS, tokens); return this; }
        public Builder backboneModelName(String name) { props.put(BACKBONE_MODEL_NAME, name); return this; }
        public Builder maxModelLen(int tokens) { props.put(MAX_MODEL_LEN, tokens); return this; }
        public Builder maxN(int n) { props.put(MAX_N, n); return this; }

        public HttpConfig build() { return from(props); }
    }
}
