package dev.lorastream.worker.testing;

import dev.lorastream.schemas.GenerationParams;
import dev.lorastream.schemas.InferenceRequest;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/** Builders of requests for tests. */
public final class Requests {
    private Requests() {}

    public static GenerationParams params(int maxNewTokens) {
        return GenerationParams.newBuilder().setMaxNewTokens(maxNewTokens).build();
    }

    public static InferenceRequest.Builder request(String requestId, String adapterId, String prompt) {
        return InferenceRequest.newBuilder()
                .setRequestId(requestId)
                .setTenant("tenant-1")
                .setAdapterId(adapterId)
                .setPrompt(prompt)
                .setParams(params(4))
                .setSubmittedAtMs(Instant.parse("2026-01-01T00:00:00Z"))
                .setAttributes(new HashMap<>(Map.of("trace", "t-" + requestId)));
    }
}
