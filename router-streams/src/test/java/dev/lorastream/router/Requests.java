package dev.lorastream.router;

import dev.lorastream.schemas.GenerationParams;
import dev.lorastream.schemas.InferenceRequest;

import java.time.Instant;
import java.util.Map;

/** Test fixture: valid requests, to be spoiled one field at a time. */
final class Requests {
    private Requests() {}

    static InferenceRequest.Builder valid(String requestId, String adapterId) {
        return InferenceRequest.newBuilder()
                .setRequestId(requestId)
                .setTenant("tenant-a")
                .setAdapterId(adapterId)
                .setPrompt("What helps with dry skin?")
                .setPromptTokenIds(null)
                .setParams(GenerationParams.newBuilder().setMaxNewTokens(16).setTemperature(0.7f).setTopP(0.9f).setTopK(40).build())
                .setReplyTopic(null)
                .setDeadlineMs(null)
                .setSubmittedAtMs(Instant.ofEpochMilli(1_700_000_000_000L))
                .setAttributes(Map.of("trace", requestId));
    }

    static GenerationParams.Builder params() {
        return GenerationParams.newBuilder().setMaxNewTokens(16).setTemperature(0.7f).setTopP(0.9f).setTopK(40);
    }
}
