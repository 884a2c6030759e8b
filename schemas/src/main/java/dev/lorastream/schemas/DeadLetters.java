package dev.lorastream.schemas;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The one builder of {@link DeadLetter}s, for every component: where the record came from, its key,
 * at most the first {@value Limits#MAX_DEAD_LETTER_ORIGINAL_BYTES} bytes of its value with the whole
 * value's size and SHA-256 (so that a dead letter can always be written, however large the record
 * was), the error code, the field at fault, the reason and the component.
 */
public final class DeadLetters {
    private DeadLetters() {}

    /**
     * @param partition -1 and offset -1 for input that never was a Kafka record (an HTTP body)
     * @param field     null when no one field is at fault
     */
    public static DeadLetter of(String sourceTopic, int partition, long offset, byte[] key, byte[] value, String requestId,
                                String code, String field, String reason, String component, Instant at) {
        return DeadLetter.newBuilder()
                .setRequestId(requestId)
                .setSourceTopic(sourceTopic)
                .setSourcePartition(partition)
                .setSourceOffset(offset)
                .setOriginalKey(key == null ? null : ByteBuffer.wrap(key.length > Limits.MAX_DEAD_LETTER_ORIGINAL_BYTES
                        ? Arrays.copyOf(key, Limits.MAX_DEAD_LETTER_ORIGINAL_BYTES) : key))
                .setOriginalValue(value == null ? null : ByteBuffer.wrap(value.length > Limits.MAX_DEAD_LETTER_ORIGINAL_BYTES
                        ? Arrays.copyOf(value, Limits.MAX_DEAD_LETTER_ORIGINAL_BYTES) : value))
                .setOriginalSize(value == null ? -1 : value.length)
                .setOriginalSha256(value == null ? null : sha256(value))
                .setErrorCode(code)
                .setField(field)
                .setReason(reason == null ? code : reason)
                .setComponent(component)
                .setFailedAtMs(at)
                .build();
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
