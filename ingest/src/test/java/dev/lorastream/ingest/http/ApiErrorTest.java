package dev.lorastream.ingest.http;

import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.ErrorInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class ApiErrorTest {
    @ParameterizedTest
    @CsvSource({"RATE_LIMITED,429,", "DUPLICATE_REQUEST_ID,409,request_id", "UNKNOWN_ADAPTER,404,model", "BAD_PARAMETER,400,temperature",
            "TOO_LARGE,413,", "DEADLINE_EXCEEDED,504,", "SOMETHING_NEW,500,"})
    void aPipelineErrorCodeHasItsHttpStatus(String code, int status, String param) {
        String field = param == null ? null : param.equals("model") ? "adapter_id" : param.equals("temperature") ? "params.temperature" : param;
        ApiError e = ApiError.fromPipeline(ErrorInfo.newBuilder().setCode(code).setField(field).setMessage("why").build(), "prompt");

        assertThat(e.status()).isEqualTo(status);
        assertThat(e.param()).isEqualTo(param);
        assertThat(e.code()).isEqualTo(code.toLowerCase());
        assertThat(e.refusedInput()).isFalse();
    }

    @org.junit.jupiter.api.Test
    void aRateLimitIsNeverDeadLetteredAndSaysWhenToRetry() {
        ApiError e = ApiError.rateLimited("slow down", "requests", 3);
        assertThat(e.pipelineCode()).isEqualTo(ErrorCode.RATE_LIMITED.name());
        assertThat(e.headers()).containsEntry("Retry-After", "3");
        assertThat(e.refusedInput()).isFalse();
        assertThat(ApiError.unauthorized("who?").headers()).containsEntry("WWW-Authenticate", "Bearer");
    }
}
