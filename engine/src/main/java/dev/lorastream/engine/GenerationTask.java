package dev.lorastream.engine;

/**
 * One row of a batch.
 *
 * @param adapterId null for the plain backbone
 * @param seed      null for a seed derived from the request id (sampling only)
 */
public record GenerationTask(String requestId, String adapterId, int[] promptIds, int maxNewTokens,
                             float temperature, float topP, int topK, Long seed, boolean ignoreEos) {}
