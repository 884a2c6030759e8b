package dev.lorastream.ingest.http.auth;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Requests per second and tokens per minute, per tenant, as token buckets. A request asks for one request and the
 * tokens it may use at most ({@link #admit}): its prompt's estimate plus max_tokens, for each choice. Admitted, both are
 * taken at once and the request gets a {@link Ticket}; its answer's usage then settles the tokens
 * ({@link Ticket#settle}: what it did not use is given back, what it used beyond the estimate taken). Refused, nothing
 * is taken and the refusal says which limit and in how many seconds to try again. A limit of 0 is no limit. The
 * request bucket holds one second's requests (at least one), the token bucket one minute's tokens. Thread-safe.
 */
public final class RateLimiter {
    /** Buckets kept before idle (full) ones are dropped: a full bucket is what a new one would be. */
    static final int MAX_IDLE_TENANTS = 10_000;

    /** A tenant's limits: requests per second and tokens per minute, 0 for none. */
    public record Limits(double requestsPerSecond, long tokensPerMinute) {
        public static final Limits NONE = new Limits(0, 0);

        public boolean none() { return requestsPerSecond <= 0 && tokensPerMinute <= 0; }
    }

    /** Which limit refused a request. */
    public enum Kind { REQUESTS, TOKENS }

    /** The outcome of {@link #admit}: a ticket, or a refusal. */
    public sealed interface Decision permits Ticket, Refusal {}

    /**
     * A refused request.
     *
     * @param retryAfterSeconds when to try again; -1 when it can never be admitted (it needs more tokens than a minute's)
     */
    public record Refusal(Kind kind, String tenant, double limit, double requested, long retryAfterSeconds) implements Decision {
        public boolean never() { return retryAfterSeconds < 0; }
    }

    /** An admitted request's reservation. */
    public static final class Ticket implements Decision {
        static final Ticket UNLIMITED = new Ticket(null, 0);
        private final Buckets buckets;
        private final long reserved;
        private final AtomicBoolean settled = new AtomicBoolean();

        private Ticket(Buckets buckets, long reserved) {
            this.buckets = buckets;
            this.reserved = reserved;
        }

        public long reserved() { return reserved; }

        /** The request used {@code used} tokens: the difference to the reservation is given back (or taken). Once. */
        public void settle(long used) {
            if (buckets == null || !settled.compareAndSet(false, true)) return;
            buckets.giveTokens(reserved - used);
        }
    }

    private final LongSupplier nanos;
    private final Map<String, Buckets> byTenant = new ConcurrentHashMap<>();

    public RateLimiter() { this(System::nanoTime); }

    /** @param nanos the clock (System.nanoTime, or a test's) */
    public RateLimiter(LongSupplier nanos) { this.nanos = nanos; }

    /** Admits one request of {@code tokens} tokens for {@code tenant} under {@code limits}, or refuses it. */
    public Decision admit(String tenant, Limits limits, long tokens) {
        if (limits.none()) return Ticket.UNLIMITED;
        long now = nanos.getAsLong();
        if (byTenant.size() > MAX_IDLE_TENANTS) byTenant.values().removeIf(b -> b.idle(now));
        Buckets buckets = byTenant.computeIfAbsent(tenant, t -> new Buckets(t, limits, now));
        return buckets.admit(limits, tokens, now);
    }

    /** Tenants with buckets (for tests). */
    int tenants() { return byTenant.size(); }

    private static final class Buckets {
        private final String tenant;
        private Limits limits;
        private TokenBucket requests, tokens;

        Buckets(String tenant, Limits limits, long now) {
            this.tenant = tenant;
            configure(limits, now);
        }

        private void configure(Limits l, long now) {
            this.limits = l;
            requests = l.requestsPerSecond() <= 0 ? null : requests == null
                    ? new TokenBucket(Math.max(1, l.requestsPerSecond()), l.requestsPerSecond(), now) : reconfigured(requests, Math.max(1, l.requestsPerSecond()), l.requestsPerSecond(), now);
            tokens = l.tokensPerMinute() <= 0 ? null : tokens == null
                    ? new TokenBucket(l.tokensPerMinute(), l.tokensPerMinute() / 60.0, now) : reconfigured(tokens, l.tokensPerMinute(), l.tokensPerMinute() / 60.0, now);
        }

        private static TokenBucket reconfigured(TokenBucket b, double capacity, double perSecond, long now) {
            b.reconfigure(capacity, perSecond, now);
            return b;
        }

        synchronized Decision admit(Limits l, long want, long now) {
            if (!l.equals(limits)) configure(l, now);
            if (requests != null) requests.refill(now);
            if (tokens != null) tokens.refill(now);
            if (requests != null && !requests.has(1)) {
                return new Refusal(Kind.REQUESTS, tenant, l.requestsPerSecond(), 1, requests.secondsUntil(1));
            }
            if (tokens != null) {
                if (want > tokens.capacity()) return new Refusal(Kind.TOKENS, tenant, l.tokensPerMinute(), want, -1);
                if (!tokens.has(want)) return new Refusal(Kind.TOKENS, tenant, l.tokensPerMinute(), want, tokens.secondsUntil(want));
            }
            if (requests != null) requests.take(1);
            if (tokens != null) tokens.take(want);
            return new Ticket(this, want);
        }

        synchronized void giveTokens(long amount) {
            if (tokens != null) tokens.give(amount);
        }

        synchronized boolean idle(long now) {
            if (requests != null) requests.refill(now);
            if (tokens != null) tokens.refill(now);
            return (requests == null || requests.full()) && (tokens == null || tokens.full());
        }
    }
}
