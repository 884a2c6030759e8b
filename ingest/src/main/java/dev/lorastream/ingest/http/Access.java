package dev.lorastream.ingest.http;

import dev.lorastream.ingest.http.auth.ApiKey;
import dev.lorastream.ingest.http.auth.KeyFile;
import dev.lorastream.ingest.http.auth.RateLimiter;

import java.util.Locale;

/**
 * Who may call the endpoint. With a keys file ({@link HttpConfig#KEYS_FILE}) every /v1 request needs
 * {@code Authorization: Bearer <key>} of a key in it (else 401 with {@code WWW-Authenticate: Bearer}); the tenant is the
 * key's, and an {@code X-Tenant} header naming another one is refused (403; naming the same one is fine); the rate limits
 * are the key line's, else {@link HttpConfig#RATE_LIMIT_RPS} / {@link HttpConfig#RATE_LIMIT_TPM}. Without one (loopback
 * only, {@link HttpConfig}) every request is let in as today and the limits are the defaults for the tenant it names.
 */
final class Access implements AutoCloseable {
    private static final String BEARER = "bearer ";

    private final HttpConfig config;
    private final KeyFile keys;

    /** @throws dev.lorastream.ingest.http.auth.KeyFileException when the configured keys file is missing or broken */
    Access(HttpConfig config) {
        this.config = config;
        this.keys = config.keysFile() == null ? null : new KeyFile(config.keysFile(), config.keysReload());
    }

    boolean keysRequired() { return keys != null; }

    /** The keys file, or null. */
    KeyFile keyFile() { return keys; }

    void start() {
        if (keys != null) keys.start();
    }

    /**
     * @param authorization the Authorization header, or null
     * @param tenantHeader  the X-Tenant header, or null
     * @throws ApiError 401 for a missing, malformed or unknown key; 403 for an X-Tenant header naming another tenant
     */
    Caller authenticate(String authorization, String tenantHeader) {
        if (keys == null) return new Caller(null, defaults());
        if (authorization == null || authorization.isBlank()) {
            throw ApiError.unauthorized("You didn't provide an API key. You need to provide your API key in an Authorization header "
                    + "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
        }
        String value = authorization.strip();
        if (!value.toLowerCase(Locale.ROOT).startsWith(BEARER)) {
            throw ApiError.unauthorized("The Authorization header must be 'Bearer YOUR_KEY'.");
        }
        String presented = value.substring(BEARER.length()).strip();
        ApiKey key = keys.keys().find(presented)
                .orElseThrow(() -> ApiError.unauthorized("Incorrect API key provided: " + masked(presented) + "."));
        if (tenantHeader != null && !tenantHeader.isBlank() && !tenantHeader.strip().equals(key.tenant())) {
            throw ApiError.forbidden("The " + OpenAiServer.TENANT_HEADER + " header names tenant '" + abbreviate(tenantHeader.strip())
                    + "', but this API key bills tenant '" + key.tenant() + "': the tenant comes from the key; leave the header out",
                    "tenant_mismatch");
        }
        return new Caller(key, new RateLimiter.Limits(key.rps() == null ? config.rateLimitRps() : key.rps(),
                key.tpm() == null ? config.rateLimitTpm() : key.tpm()));
    }

    private RateLimiter.Limits defaults() { return new RateLimiter.Limits(config.rateLimitRps(), config.rateLimitTpm()); }

    /** As OpenAI shows a wrong key: its first and last characters only. */
    static String masked(String key) {
        if (key.length() <= 8) return "*".repeat(key.length());
        return key.substring(0, 4) + "*".repeat(Math.min(key.length() - 8, 20)) + key.substring(key.length() - 4);
    }

    private static String abbreviate(String s) { return s.length() <= 64 ? s : s.substring(0, 61) + "..."; }

    @Override
    public void close() {
        if (keys != null) keys.close();
    }
}
