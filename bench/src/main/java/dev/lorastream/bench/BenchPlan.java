package dev.lorastream.bench;

import dev.lorastream.engine.demo.RandomModels.BackboneSpec;

import java.util.List;

/**
 * What one benchmark run measures: the backbone's shape, the adapters, the batch of part A and the
 * request stream of part B. {@link #full()} is the documented run; {@link #quick()} checks the
 * harness end to end in seconds (its figures mean nothing).
 *
 * @param batchRows       rows of the part-A batch; the multi-adapter batch puts each on its own adapter
 * @param batchRounds     rounds of part A; each runs the three batches once, in a rotated order
 * @param manyAdapters    adapters in the store of the many-adapter stream (Zipf popularity)
 * @param fewAdapters     adapters of the comparison stream, all resident on the device
 * @param hostAdapters    adapters the host tier holds (its bytes are this many adapters' weights)
 * @param deviceAdapters  device slots (its bytes are this many slots at the maximum rank)
 * @param streamRequests  requests per stream per round
 * @param streamRounds    rounds of part B; each runs both streams once, in alternating order
 * @param warmupRequests  requests per engine before part B's rounds, not measured
 * @param inFlight        requests outstanding at once (a closed loop: one is submitted when one finishes)
 * @param isolatedLoads   adapters timed one miss at a time outside the engine (store load, device-slot write), for exact costs
 */
public record BenchPlan(String name, BackboneSpec backbone, long seed, int rank, List<String> targets, int maxBatch,
                        int batchRows, int batchPromptTokens, int batchNewTokens, int batchRounds,
                        int manyAdapters, int fewAdapters, double zipfExponent, int hostAdapters, int deviceAdapters,
                        int streamRequests, int streamRounds, int warmupRequests, int inFlight,
                        int minPromptTokens, int maxPromptTokens, int minNewTokens, int maxNewTokens, int isolatedLoads) {

    public static final List<String> ATTENTION = List.of("q_proj", "k_proj", "v_proj", "o_proj");

    public BenchPlan {
        targets = List.copyOf(targets);
        require(batchRows >= 1 && batchRows <= maxBatch, "batch rows must be in [1, max batch]");
        require(batchRows <= deviceAdapters, "the multi-adapter batch needs a device slot per row: batch rows <= device adapters");
        require(fewAdapters >= 1 && fewAdapters <= deviceAdapters, "the few adapters must all fit on the device");
        require(deviceAdapters >= 1 && hostAdapters >= deviceAdapters, "host adapters >= device adapters >= 1");
        require(manyAdapters > hostAdapters, "the many-adapter store must not fit in the host tier");
        require(batchRounds >= 1 && streamRounds >= 1, "at least one round of each part");
        require(minPromptTokens >= 2 && minPromptTokens <= maxPromptTokens, "prompt lengths: 2 <= min <= max");
        require(minNewTokens >= 1 && minNewTokens <= maxNewTokens, "new tokens: 1 <= min <= max");
        require(Math.max(batchPromptTokens + batchNewTokens, maxPromptTokens + maxNewTokens) <= backbone.maxPositions(),
                "prompts and new tokens must fit in the backbone's positions");
        require(inFlight >= 1 && streamRequests >= 1 && warmupRequests >= 0 && isolatedLoads >= 0, "counts must be positive");
    }

    private static void require(boolean ok, String what) {
        if (!ok) throw new IllegalArgumentException("benchmark plan: " + what);
    }

    /** Llama shape with GQA, big enough for compute to dominate on CPU, small enough for a run of a few minutes. */
    public static BenchPlan full() {
        BackboneSpec spec = new BackboneSpec("llama", "bench-llama", 512, 4, 8, 2, 1376, 2048, 256, 10000.0, 1e-5, false, false, 1, 2);
        return new BenchPlan("full", spec, 20260501L, 16, ATTENTION, 8,
                8, 32, 32, 20,
                1000, 5, 1.0, 50, 8,
                320, 4, 160, 16,
                16, 48, 16, 48, 100);
    }

    /** A tiny backbone and a short run for tests. */
    public static BenchPlan quick() {
        BackboneSpec spec = new BackboneSpec("llama", "bench-llama", 64, 2, 4, 2, 160, 256, 64, 10000.0, 1e-5, false, false, 1, 2);
        return new BenchPlan("quick", spec, 20260501L, 8, ATTENTION, 4,
                4, 8, 4, 1,
                30, 3, 1.0, 12, 4,
                12, 1, 4, 8,
                4, 8, 2, 6, 5);
    }

    /** Adapters of the few-adapter store: the part-A batch's and the comparison stream's. */
    public int smallStoreAdapters() { return Math.max(batchRows, fewAdapters); }
}
