package dev.lorastream.schemas;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class DeadLettersTest {
    @Test
    void aLargeRecordKeepsAPrefixWithTheWholeSizeAndHash() {
        byte[] big = new byte[1_048_274];
        Arrays.fill(big, (byte) 'x');
        DeadLetter d = DeadLetters.of("inference.requests", 2, 7L, "k".getBytes(), big, null, ErrorCode.TOO_LARGE.name(), null,
                "too large", "router", Instant.EPOCH);
        assertThat(d.getOriginalValue().remaining()).isEqualTo(Limits.MAX_DEAD_LETTER_ORIGINAL_BYTES);
        assertThat(d.getOriginalSize()).isEqualTo(1_048_274L);
        assertThat(d.getOriginalSha256()).hasSize(64);
        DeadLetter small = DeadLetters.of("t", 0, 0L, null, new byte[] {1, 2, 3}, "r", "MALFORMED_RECORD", "f", null, "worker", Instant.EPOCH);
        assertThat(small.getOriginalValue().remaining()).isEqualTo(3);
        assertThat(small.getOriginalSize()).isEqualTo(3L);
        assertThat(small.getReason()).isEqualTo("MALFORMED_RECORD");
        assertThat(DeadLetters.of("t", -1, -1L, null, null, null, "INVALID_REQUEST", null, "x", "ingest", Instant.EPOCH).getOriginalSize()).isEqualTo(-1L);
    }
}
