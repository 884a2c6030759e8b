package dev.lorastream.ingest;

import dev.lorastream.schemas.SchemaTrust;
import dev.lorastream.schemas.GenerationParams;
import dev.lorastream.schemas.InferenceRequest;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;

/** Builders of {@link InferenceRequest} for callers, with a fresh request id and the schema's defaults. */
public final class Requests {
    static {
        SchemaTrust.ensure();
    }

    private Requests() {}

    /**
     * A text-prompt request.
     *
     * @param adapterOrNull the LoRA adapter id, or null for the plain backbone
     * @throws IllegalArgumentException naming the argument when tenant or prompt is empty or maxNewTokens &lt; 1
     */
    public static InferenceRequest text(String tenant, String adapterOrNull, String prompt, int maxNewTokens) {
        if (prompt == null || prompt.isEmpty()) throw new IllegalArgumentException("prompt must not be empty");
        return base(tenant, adapterOrNull, maxNewTokens).setPrompt(prompt).build();
    }

    /** A request whose prompt is given as token ids (the worker skips tokenization). */
    public static InferenceRequest tokens(String tenant, String adapterOrNull, List<Integer> promptTokenIds, int maxNewTokens) {
        if (promptTokenIds == null || promptTokenIds.isEmpty()) throw new IllegalArgumentException("prompt token ids must not be empty");
        return base(tenant, adapterOrNull, maxNewTokens).setPromptTokenIds(List.copyOf(promptTokenIds)).build();
    }

    /** A builder pre-filled like {@link #text}: request id, tenant, adapter, max new tokens, submission time. */
    public static InferenceRequest.Builder base(String tenant, String adapterOrNull, int maxNewTokens) {
        if (tenant == null || tenant.isBlank()) throw new IllegalArgumentException("tenant must not be empty");
        if (adapterOrNull != null && adapterOrNull.isBlank()) throw new IllegalArgumentException("adapter id must be null (backbone) or non-blank");
        if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be at least 1, got " + maxNewTokens);
        return InferenceRequest.newBuilder()
                .setRequestId(InferenceClient.newRequestId())
                .setTenant(tenant)
                .setAdapterId(adapterOrNull)
                .setParams(GenerationParams.newBuilder().setMaxNewTokens(maxNewTokens).build())
                .setSubmittedAtMs(Instant.now())
                .setAttributes(new HashMap<>());
    }
}
