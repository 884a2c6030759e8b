package dev.lorastream.engine;

import java.util.List;

/**
 * The result of one task.
 *
 * @param finishReason "eos", "length" or "stop"
 * @param computeMs    this row's share of the forward passes' wall time
 * @param logprobs     one per generated token when the task asked for them, else null
 */
public record Generation(String requestId, int[] tokenIds, String finishReason, long prefillMs, long decodeMs, double computeMs,
                         List<TokenLogprob> logprobs) {
    public Generation(String requestId, int[] tokenIds, String finishReason, long prefillMs, long decodeMs, double computeMs) {
        this(requestId, tokenIds, finishReason, prefillMs, decodeMs, computeMs, null);
    }
}
