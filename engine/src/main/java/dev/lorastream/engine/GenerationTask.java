package dev.lorastream.engine;

/**
 * One row of a batch.
 *
 * @param adapterId        null for the plain backbone
 * @param seed             null for a seed derived from the request id (sampling only)
 * @param logprobs         -1: none; 0..{@value #MAX_LOGPROBS}: each generated token's log-probability and this many of the most likely alternatives
 * @param presencePenalty  subtracted from the logit of every token generated so far (OpenAI's presence_penalty, -2..2)
 * @param frequencyPenalty subtracted from a token's logit once per time it was generated so far (OpenAI's frequency_penalty, -2..2)
 */
public record GenerationTask(String requestId, String adapterId, int[] promptIds, int maxNewTokens,
                             float temperature, float topP, int topK, Long seed, boolean ignoreEos,
                             int logprobs, float presencePenalty, float frequencyPenalty) {
    /** The most alternatives a token's log-probabilities can list (OpenAI's limit). */
    public static final int MAX_LOGPROBS = 5;

    /** No log-probabilities, no penalties. */
    public GenerationTask(String requestId, String adapterId, int[] promptIds, int maxNewTokens,
                          float temperature, float topP, int topK, Long seed, boolean ignoreEos) {
        this(requestId, adapterId, promptIds, maxNewTokens, temperature, topP, topK, seed, ignoreEos, -1, 0f, 0f);
    }

    /** Whether the token is chosen from penalised logits (then on the host). */
    public boolean penalised() { return presencePenalty != 0f || frequencyPenalty != 0f; }

    /** Whether each step's logits must come to the host for this task. */
    public boolean needsLogits() { return logprobs >= 0 || penalised(); }
}
