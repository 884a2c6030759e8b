package dev.lorastream.schemas;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class ErrorCodeTest {
    @Test
    void theVocabularyIsTheContractsThirteenCodes() {
        assertThat(Arrays.stream(ErrorCode.values()).map(ErrorCode::name)).containsExactlyInAnyOrder(
                "MALFORMED_RECORD", "WRONG_SCHEMA", "INVALID_REQUEST", "UNKNOWN_ADAPTER", "PROMPT_TOO_LONG",
                "BAD_PARAMETER", "ADAPTER_LOAD_FAILED", "DEADLINE_EXCEEDED", "CANCELLED", "TOO_LARGE", "RATE_LIMITED", "DUPLICATE_REQUEST_ID", "INTERNAL");
    }

    @Test
    void parseReadsEveryNameBack() {
        for (ErrorCode code : ErrorCode.values()) assertThat(ErrorCode.parse(code.name())).contains(code);
    }

    @Test
    void parseIsEmptyForNullUnknownOrDifferentlySpelledCodes() {
        assertThat(ErrorCode.parse(null)).isEmpty();
        assertThat(ErrorCode.parse("")).isEmpty();
        assertThat(ErrorCode.parse("SOMETHING_NEW")).isEmpty();
        assertThat(ErrorCode.parse("internal")).isEmpty();
    }
}
