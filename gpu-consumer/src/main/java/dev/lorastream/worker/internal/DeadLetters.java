package dev.lorastream.worker.internal;

import dev.lorastream.schemas.DeadLetter;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.charset.StandardCharsets;
import java.time.Clock;

/**
 * The worker's {@link DeadLetter}s of refused records (through {@code schemas.DeadLetters}, the one
 * builder: bounded original bytes with their size and hash), component "worker".
 */
public final class DeadLetters {
    /** DeadLetter.component of everything the worker dead-letters. */
    public static final String COMPONENT = "worker";

    private final Clock clock;

    public DeadLetters(Clock clock) { this.clock = clock; }

    /**
     * The request id a dead letter carries (and is keyed by): the request's own id, or else the
     * record key where there is one, or null.
     */
    public static String requestIdOf(ConsumerRecord<byte[], byte[]> record, String requestId) {
        if (requestId != null && !requestId.isBlank()) return requestId;
        return record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
    }

    public DeadLetter of(ConsumerRecord<byte[], byte[]> record, String requestId, String code, String field, String reason) {
        return dev.lorastream.schemas.DeadLetters.of(record.topic(), record.partition(), record.offset(), record.key(), record.value(),
                requestIdOf(record, requestId), code, field, reason, COMPONENT, clock.instant());
    }
}
