package dev.lorastream.worker.internal;

import java.time.Duration;

/** Capped exponential backoff: initial, 2x initial, 4x ... up to the cap. */
public final class Backoff {
    private final long initialMs;
    private final long maxMs;
    private int failures;

    public Backoff(Duration initial, Duration max) {
        this.initialMs = initial.toMillis();
        this.maxMs = max.toMillis();
    }

    /** The pause after the {@code attempt}-th consecutive failure (1-based). */
    public long delayMs(int attempt) {
        long delay = initialMs;
        for (int i = 1; i < attempt && delay < maxMs; i++) delay *= 2;
        return Math.min(delay, maxMs);
    }

    /** Records one more consecutive failure and sleeps its pause. */
    public void pause() throws InterruptedException {
        failures++;
        long ms = delayMs(failures);
        if (ms > 0) Thread.sleep(ms);
    }

    /** Consecutive failures since the last {@link #reset()}. */
    public int failures() { return failures; }

    public void reset() { failures = 0; }
}
