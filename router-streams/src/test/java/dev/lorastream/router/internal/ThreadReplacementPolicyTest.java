package dev.lorastream.router.internal;

import dev.lorastream.schemas.registry.SchemaRegistryException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
import static org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
import static org.assertj.core.api.Assertions.assertThat;

class ThreadReplacementPolicyTest {
    private static final Throwable REGISTRY_DOWN = new StreamsException(new SerializationException("cannot fetch",
            new SchemaRegistryException("unreachable", 0, 0, null)));

    private final MutableClock clock = new MutableClock();
    private final ThreadReplacementPolicy policy = new ThreadReplacementPolicy(2, Duration.ofMinutes(1), clock);

    @Test
    void aRetriableFailureReplacesTheThreadAFewTimesThenShutsDown() {
        assertThat(policy.handle(REGISTRY_DOWN)).isEqualTo(REPLACE_THREAD);
        assertThat(policy.handle(REGISTRY_DOWN)).isEqualTo(REPLACE_THREAD);
        assertThat(policy.handle(REGISTRY_DOWN)).isEqualTo(SHUTDOWN_CLIENT);
    }

    @Test
    void replacementsOlderThanTheWindowNoLongerCount() {
        policy.handle(REGISTRY_DOWN);
        policy.handle(REGISTRY_DOWN);
        clock.now = clock.now.plus(Duration.ofSeconds(61));

        assertThat(policy.handle(REGISTRY_DOWN)).isEqualTo(REPLACE_THREAD);
    }

    @Test
    void aPermanentFailureShutsDownAtOnce() {
        assertThat(policy.handle(new StreamsException(new IllegalStateException("bug")))).isEqualTo(SHUTDOWN_CLIENT);
        assertThat(policy.handle(new SchemaRegistryException("forbidden", 403, 40301, null))).isEqualTo(SHUTDOWN_CLIENT);
    }

    private static final class MutableClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }
}
