package dev.lorastream.sink.internal;

import dev.lorastream.schemas.DeadLetter;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.ByteBuffer;
import java.time.Instant;

/** Builds the DeadLetter for a record the sink refused: original bytes, where it came from and why. */
public final class DeadLetters {
    public static final String COMPONENT = "sink";

    private DeadLetters() {}

    public static DeadLetter of(ConsumerRecord<byte[], byte[]> record, Decoded.Rejected rejected, Instant now) {
        return DeadLetter.newBuilder()
                .setRequestId(rejected.requestId())
                .setSourceTopic(record.topic())
                .setSourcePartition(record.partition())
                .setSourceOffset(record.offset())
                .setOriginalKey(record.key() == null ? null : ByteBuffer.wrap(record.key()))
                .setOriginalValue(record.value() == null ? null : ByteBuffer.wrap(record.value()))
                .setErrorCode(rejected.errorCode())
                .setField(rejected.field())
                .setReason(rejected.reason())
                .setComponent(COMPONENT)
                .setFailedAtMs(now)
                .build();
    }
}
