package dev.lorastream.ingest.http;

import dev.lorastream.ingest.http.auth.ApiKey;
import dev.lorastream.ingest.http.auth.RateLimiter;

/**
 * Who sends a request, as {@link Access} established it.
 *
 * @param key    the caller's API key, or null on an endpoint without keys
 * @param limits its tenant's rate limits
 */
record Caller(ApiKey key, RateLimiter.Limits limits) {
    /** The tenant the key bills, or null without keys (then the request names it: X-Tenant, user, or the default). */
    String tenant() { return key == null ? null : key.tenant(); }

    /** Whether the caller may use (and see) {@code model}: every model without keys. */
    boolean mayUse(String model) { return key == null || key.mayUse(model); }

    /** Whether the caller may add and remove adapters at run time: anyone without keys (loopback), else keys marked admin. */
    boolean admin() { return key == null || key.admin(); }

    /** For logs: the key's short hash and tenant, or "no key". */
    String describe() { return key == null ? "no key" : key.shortHash() + "... (" + key.tenant() + ")"; }
}
