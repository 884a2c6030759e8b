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
    public static final String KEYS_FILE = "http.keys.file";
    public static final String KEYS_RELOAD_MS = "http.keys.reload.ms";
    public static final String RATE_LIMIT_RPS = "http.rate.limit.rps";
    public static final String RATE_LIMIT_TPM = "http.rate.limit.tpm";

    public static final ConfigDef DEFINITION = new ConfigDef()
            .define(HOST, Type.STRING, "127.0.0.1", new ConfigDef.NonEmptyStringWithoutControlChars(), Importance.HIGH,
                    "Address to listen on: loopback unless told otherwise; another address (0.0.0.0: every interface) only with " + KEYS_FILE + ".")
            .define(PORT, Type.INT, 8000, Range.between(0, 65535), Importance.HIGH,
                    "Port to listen on; 0 picks a free one (see OpenAiServer.port()).")
            .define(MAX_BODY_BYTES, Type.INT, dev.lorastream.schemas.Limits.MAX_REQUEST_BYTES, Range.between(1, dev.lorastream.schemas.Limits.MAX_REQUEST_BYTES),
                    Importance.MEDIUM, "Largest request body accepted; larger ones get HTTP 413 (at most the pipeline's request limit, schemas.Limits).")
            .define(REQUEST_TIMEOUT_MS, Type.LONG, 60_000L, Range.between(1, 3_600_000L), Importance.MEDIUM,
                    "How long a request waits for its response before HTTP 504; also sent as the request's deadline.")
            .define(DEFAULT_TENANT, Type.STRING, "anonymous", new ConfigDef.NonEmptyStringWithoutControlChars(), Importance.MEDIUM,
                    "Tenant of requests that name none (no X-Tenant header, no 'user' field), without " + KEYS_FILE + ".")
            .define(DEFAULT_MAX_TOKENS, Type.INT, 16, Range.atLeast(1), Importance.LOW,
                    "max_tokens of requests that give none (OpenAI's completions default is 16).")
            .define(BACKBONE_MODEL_NAME, Type.STRING, "base", new ConfigDef.NonEmptyStringWithoutControlChars(), Importance.LOW,
                    "Model name under which the plain backbone is listed and requested.")
            .define(MAX_MODEL_LEN, Type.INT, 16_384, Range.atLeast(1), Importance.LOW,
                    "Context window (prompt + generated tokens) that GET /v1/models reports as max_model_len; set it to the router's router.max.context.tokens")
            .define(MAX_N, Type.INT, 8, Range.between(1, 128), Importance.LOW,
                    "Largest n (choices per request) accepted; each choice is its own request through Kafka, attributed on its own.")
            .define(KEYS_FILE, Type.STRING, "", Importance.HIGH,
                    "API keys file (./pipeline keys add): every /v1 request then needs 'Authorization: Bearer <key>' and bills the key's tenant; "
                            + "empty: no keys, the tenant is the X-Tenant header or 'user' (loopback only).")
            .define(KEYS_RELOAD_MS, Type.LONG, 1_000L, Range.between(10, 3_600_000L), Importance.LOW,
                    "How often the keys file is checked for changes (modification time or size); a broken file keeps the keys read before.")
            .define(RATE_LIMIT_RPS, Type.DOUBLE, 0.0, Range.between(0, 1e9), Importance.MEDIUM,
                    "Requests per second per tenant, for keys whose line gives no rps= (and every tenant without keys); 0: no limit.")
            .define(RATE_LIMIT_TPM, Type.LONG, 0L, Range.between(0, Long.MAX_VALUE / 4), Importance.MEDIUM,
                    "Tokens per minute per tenant (prompt estimate + max_tokens reserved, settled by the answer's usage), for keys whose line "
                            + "gives no tpm= (and every tenant without keys); 0: no limit.");

    private final String host;
    private final int port;
    private final int maxBodyBytes;
    private final Duration requestTimeout;
    private final String defaultTenant;
    private final int defaultMaxTokens;
    private final String backboneModelName;
    private final int maxModelLen;
    private final int maxN;
    private final java.nio.file.Path keysFile;
    private final Duration keysReload;
    private final double rateLimitRps;
    private final long rateLimitTpm;

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
        String keys = parsed.getString(KEYS_FILE).strip();
        keysFile = keys.isEmpty() ? null : java.nio.file.Path.of(keys);
        keysReload = Duration.ofMillis(parsed.getLong(KEYS_RELOAD_MS));
        rateLimitRps = parsed.getDouble(RATE_LIMIT_RPS);
        rateLimitTpm = parsed.getLong(RATE_LIMIT_TPM);
        if (keysFile == null && !isLoopback(host)) {
            throw new ConfigException(HOST + " '" + host + "' is not a loopback address and no API keys are configured (" + KEYS_FILE
                    + "): every machine that reaches it could use and bill any tenant. Give a keys file (./pipeline keys add --keys-file FILE "
                    + "--tenant T) or listen on 127.0.0.1");
        }
    }

    /** Whether {@code host} is a loopback address (127.0.0.0/8, ::1, a name that resolves to one); unresolvable: not. */
    static boolean isLoopback(String host) {
        try {
            return java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
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
    /** The API keys file, or null for none (loopback only, tenant from the request). */
    public java.nio.file.Path keysFile() { return keysFile; }
    public Duration keysReload() { return keysReload; }
    public double rateLimitRps() { return rateLimitRps; }
    public long rateLimitTpm() { return rateLimitTpm; }

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
        public Builder keysFile(java.nio.file.Path file) { props.put(KEYS_FILE, file == null ? "" : file.toString()); return this; }
        public Builder keysReload(Duration every) { props.put(KEYS_RELOAD_MS, every.toMillis()); return this; }
        public Builder rateLimitRps(double rps) { props.put(RATE_LIMIT_RPS, rps); return this; }
        public Builder rateLimitTpm(long tpm) { props.put(RATE_LIMIT_TPM, tpm); return this; }

        public HttpConfig build() { return from(props); }
    }
}
