package dev.lorastream.ingest.http;

import dev.lorastream.schemas.SchemaTrust;
import dev.lorastream.schemas.GenerationParams;
import dev.lorastream.schemas.InferenceRequest;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated completion or chat request, before it becomes an {@link InferenceRequest}.
 *
 * @param model the model name as the caller gave it (or the backbone's name)
 * @param adapterId null for the plain backbone
 * @param prompt the prompt text (for chat: the rendered messages); null when {@code promptTokenIds} is given
 * @param seed null when the caller gave none
 * @param stream answer as server-sent events, the text as it is generated
 * @param includeUsage with {@code stream}: a last chunk with the token usage ({@code stream_options.include_usage})
 * @param stop up to 4 stop sequences (empty: none)
 */
public record CompletionRequest(Endpoint endpoint, String model, String adapterId, String prompt, List<Integer> promptTokenIds,
                                int maxTokens, float temperature, float topP, int topK, Long seed, String tenant,
                                boolean stream, boolean includeUsage, List<String> stop,
                                int n, int logprobs, float presencePenalty, float frequencyPenalty) {
    public CompletionRequest {
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    /**
     * The tokens this request may use at most, what the rate limiter reserves: for each of its n choices the prompt (its token
     * ids, or an estimate of one token per 4 characters of text) plus max_tokens. The answers' usage settles it.
     */
    public long reservedTokens() {
        long promptTokens = promptTokenIds != null ? promptTokenIds.size() : prompt == null ? 0 : (prompt.length() + 3) / 4;
        return (long) n * (promptTokens + maxTokens);
    }

    /** Whether the caller asked for log-probabilities (-1: no; else how many alternatives per token). */
    public boolean wantsLogprobs() { return logprobs >= 0; }

    static {
        SchemaTrust.ensure();
    }


    /** The two generating endpoints; each names the DLQ source and the field that carries the prompt. */
    public enum Endpoint {
        COMPLETIONS("/v1/completions", "prompt", "text_completion", "cmpl-"),
        CHAT_COMPLETIONS("/v1/chat/completions", "messages", "chat.completion", "chatcmpl-");

        public final String path;
        public final String promptParam;
        public final String object;
        public final String idPrefix;

        Endpoint(String path, String promptParam, String object, String idPrefix) {
            this.path = path;
            this.promptParam = promptParam;
            this.object = object;
            this.idPrefix = idPrefix;
        }

        /** {@code http:POST /v1/...}: the source_topic of dead letters about this endpoint's input. */
        public String source() { return "http:POST " + path; }
    }

    /** The request id of choice {@code index}: {@code requestId} for the first, {@code requestId-<index>} for the others. */
    public static String choiceId(String requestId, int index) { return index == 0 ? requestId : requestId + "-" + index; }

    /** The pipeline event for this request; its deadline is {@code now + timeout}. */
    public InferenceRequest toInferenceRequest(String requestId, Instant now, Duration timeout) {
        return toInferenceRequest(requestId, now, timeout, 0);
    }

    /**
     * The event of choice {@code index} of the n this request asks for: choice 0 is {@code requestId}, the others
     * {@code requestId-<index>}, with seed {@code seed + index} when a seed was given (else each one's own request
     * id derives its draws), so that sampled choices differ.
     */
    public InferenceRequest toInferenceRequest(String requestId, Instant now, Duration timeout, int index) {
        Map<String, String> attributes = new HashMap<>();
        attributes.put("source", endpoint.source());
        attributes.put("model", model);
        return InferenceRequest.newBuilder()
                .setRequestId(choiceId(requestId, index))
                .setTenant(tenant)
                .setAdapterId(adapterId)
                .setPrompt(prompt)
                .setPromptTokenIds(promptTokenIds)
                .setParams(GenerationParams.newBuilder()
                        .setMaxNewTokens(maxTokens)
                        .setTemperature(temperature)
                        .setTopP(topP)
                        .setTopK(topK)
                        .setSeed(seed == null ? null : seed + index)
                        .setStream(stream)
                        .setStop(stop)
                        .setLogprobs(logprobs)
                        .setPresencePenalty(presencePenalty)
                        .setFrequencyPenalty(frequencyPenalty)
                        .build())
                .setDeadlineMs(now.plus(timeout))
                .setSubmittedAtMs(now)
                .setAttributes(attributes)
                .build();
    }
}
