package dev.lorastream.worker.internal;

import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

class DeadLettersTest {
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private final DeadLetters deadLetters = new DeadLetters(Clock.fixed(NOW, ZoneOffset.UTC));

    @Test
    void aDeadLetterCarriesTheOriginalBytesAndWhereTheyCameFrom() {
        byte[] key = "cardiology".getBytes(StandardCharsets.UTF_8);
        byte[] value = {1, 2, 3, 4};
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>(Topics.ROUTED, 3, 42L, key, value);

        DeadLetter dl = deadLetters.of(record, "req-9", ErrorCode.WRONG_SCHEMA.name(), "params", "not a request");

        assertThat(dl.getRequestId()).isEqualTo("req-9");
        assertThat(dl.getSourceTopic()).isEqualTo(Topics.ROUTED);
        assertThat(dl.getSourcePartition()).isEqualTo(3);
        assertThat(dl.getSourceOffset()).isEqualTo(42L);
        assertThat(dl.getOriginalKey()).isEqualTo(ByteBuffer.wrap(key));
        assertThat(dl.getOriginalValue()).isEqualTo(ByteBuffer.wrap(value));
        assertThat(dl.getErrorCode()).isEqualTo(ErrorCode.WRONG_SCHEMA.name());
        assertThat(dl.getField()).isEqualTo("params");
        assertThat(dl.getReason()).isEqualTo("not a request");
        assertThat(dl.getComponent()).isEqualTo("worker");
        assertThat(dl.getFailedAtMs()).isEqualTo(NOW);
    }

    @Test
    void withoutARequestIdTheRecordKeyStandsIn() {
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>(Topics.ROUTED, 0, 1L,
                "key-7".getBytes(StandardCharsets.UTF_8), new byte[]{9});

        DeadLetter dl = deadLetters.of(record, null, ErrorCode.MALFORMED_RECORD.name(), null, "garbage");

        assertThat(dl.getRequestId()).isEqualTo("key-7");
    }

    @Test
    void withoutRequestIdOrKeyTheRequestIdIsNull() {
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>(Topics.ROUTED, 0, 1L, null, null);

        DeadLetter dl = deadLetters.of(record, null, ErrorCode.MALFORMED_RECORD.name(), null, "tombstone");

        assertThat(dl.getRequestId()).isNull();
        assertThat(dl.getOriginalKey()).isNull();
        assertThat(dl.getOriginalValue()).isNull();
    }
}
