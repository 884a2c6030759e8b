package dev.lorastream.router.internal;

import dev.lorastream.schemas.Failures;

import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Bounded retries for a stream thread that died: a retriable failure (registry or broker
 * unreachable) replaces the thread, which re-reads from the last committed offset, up to
 * {@code maxReplacements} times per window; anything else, or too many in a row, shuts the client
 * down so that the failure is seen rather than looped on.
 */
public final class ThreadReplacementPolicy implements StreamsUncaughtExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ThreadReplacementPolicy.class);

    private final int maxReplacements;
    private final Duration window;
    private final Clock clock;
    private final Deque<Long> replacements = new ArrayDeque<>();

    public ThreadReplacementPolicy(int maxReplacements, Duration window, Clock clock) {
        this.maxReplacements = maxReplacements;
        this.window = window;
        this.clock = clock;
    }

    @Override
    public synchronized StreamThreadExceptionResponse handle(Throwable failure) {
        long now = clock.millis();
        while (!replacements.isEmpty() && replacements.peekFirst() <= now - window.toMillis()) replacements.pollFirst();
        if (!Failures.isRetriable(failure)) {
            LOG.error("stream thread failed permanently; shutting the router down", failure);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
        if (replacements.size() >= maxReplacements) {
            LOG.error("stream thread failed {} times within {}; shutting the router down", replacements.size() + 1, window, failure);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
        replacements.addLast(now);
        LOG.warn("stream thread failed on a retriable error ({} of {} within {}); replacing it: {}",
                replacements.size(), maxReplacements, window, failure.toString());
        return StreamThreadExceptionResponse.REPLACE_THREAD;
    }
}
