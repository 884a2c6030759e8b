package dev.lorastream.ingest.http.auth;

/**
 * A token bucket: holds up to {@code capacity}, refilled at {@code perSecond}, starting full. Its level may go below
 * zero when more is taken back than was reserved (a request that used more tokens than it reserved): later takers
 * then wait longer. Not thread-safe: its owner synchronizes.
 */
final class TokenBucket {
    private double capacity;
    private double perSecond;
    private double level;
    private long lastNanos;

    TokenBucket(double capacity, double perSecond, long nowNanos) {
        this.capacity = capacity;
        this.perSecond = perSecond;
        this.level = capacity;
        this.lastNanos = nowNanos;
    }

    /** New limits (the keys file changed); the level is kept, at most the new capacity. */
    void reconfigure(double capacity, double perSecond, long nowNanos) {
        refill(nowNanos);
        this.capacity = capacity;
        this.perSecond = perSecond;
        this.level = Math.min(level, capacity);
    }

    void refill(long nowNanos) {
        long elapsed = nowNanos - lastNanos;
        if (elapsed > 0) {
            level = Math.min(capacity, level + elapsed * perSecond / 1e9);
            lastNanos = nowNanos;
        }
    }

    double capacity() { return capacity; }

    double level() { return level; }

    boolean has(double amount) { return level >= amount; }

    void take(double amount) { level -= amount; }

    /** Gives back {@code amount} (negative: takes more), never above the capacity. */
    void give(double amount) { level = Math.min(capacity, level + amount); }

    /** Seconds until the level reaches {@code amount}, at least 1. */
    long secondsUntil(double amount) {
        double seconds = (amount - level) / perSecond;
        return Math.max(1, (long) Math.ceil(seconds));
    }

    boolean full() { return level >= capacity; }
}
