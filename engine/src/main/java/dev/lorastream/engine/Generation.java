package dev.lorastream.engine;

/**
 * The result of one task.
 *
 * @param finishReason "eos" or "length"
 * @param computeMs    this row's share of the forward passes' wall time
 */
public record Generation(String requestId, int[] tokenIds, String finishReason, long prefillMs, long decodeMs, double computeMs) {}
