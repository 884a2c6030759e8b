package dev.lorastream.worker.internal;

import dev.lorastream.schemas.DeadLetter;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;

/**
 * Builds the {@link DeadLetter} of a refused record: where it came from, its original key and
 * value bytes, the error code, the field at fault and the reason; component "worker".
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
        return DeadLetter.newBuilder()
                .setRequestId(requestIdOf(record, requestId))
                .setSourceTopic(record.topic())
                .setSourcePartition(record.partition())
                .setSourceOffset(record.offset())
                .setOriginalKey(record.key() == null ? null : ByteBuffer.wrap(record.key()))
                .setOriginalValue(record.value() == null ? null : ByteBuffer.wrap(record.value()))
                .setErrorCode(code)
                .setField(field)
                .setReason(reason == null ? code : reason)
                .setComponent(COMPONENT)
                .setFailedAtMs(clock.instant())
                .build();
    }
}
