package dev.lorastream.engine;

/**
 * A generated token's log-probability under the model's raw output at that step (log-softmax of the
 * logits, before temperature, top-k/top-p and penalties: vLLM's default), and the most likely
 * alternatives, most likely first (ties: the lower id first).
 */
public record TokenLogprob(int tokenId, float logprob, int[] topIds, float[] topLogprobs) {}
