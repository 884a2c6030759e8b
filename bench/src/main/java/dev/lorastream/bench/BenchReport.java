package dev.lorastream.bench;

import dev.lorastream.engine.adapters.cache.Tier;

import java.util.List;

/** Everything one benchmark run measured; {@link ReportWriter} renders it as Markdown and JSON. */
public record BenchReport(String command, String plan, String date, double runSeconds, Machine machine, int intraOpThreads,
                          double loadAverageAtStart, double loadAverageAtEnd, ModelShape model, BatchPart batch, StreamPart stream) {

    /** The backbone and adapter shapes. */
    public record ModelShape(String type, int hidden, int layers, int heads, int kvHeads, int headDim, int intermediate, int vocab,
                             long parameters, int rank, List<String> targets, long adapterBytes, long slotBytes) {}

    /** A median over rounds with the spread it came from. */
    public record Spread(double median, double min, double max) {
        public static Spread of(double[] values) {
            return new Spread(Percentiles.median(values), Percentiles.min(values), Percentiles.max(values));
        }
    }

    /**
     * A ratio of two configurations measured in the same round, over rounds.
     *
     * @param ofBest the ratio of each configuration's best round: other work on the machine only slows a run down, so the best rounds
     *               are the least disturbed
     */
    public record Ratio(String name, String metric, Spread value, double ofBest) {}

    /** One timed run of one part-A batch. */
    public record BatchRun(String batch, int round, int rows, long tokens, double wallMs, double prefillMs, double decodeMs,
                           double tokensPerSecond, double decodeTokensPerSecond) {}

    /** One part-A batch over every round. */
    public record BatchSummary(String batch, String adapters, Spread decodeTokensPerSecond, Spread tokensPerSecond, Spread prefillMs) {}

    public record BatchPart(int rows, int promptTokens, int newTokens, int rounds, List<BatchSummary> summaries, List<Ratio> ratios, List<BatchRun> runs) {}

    /** The cache's counters over some requests, as rates and load times (ms). */
    public record CacheFigures(long deviceHits, long deviceMisses, double deviceHitRate, long hostHits, long hostMisses, double hostHitRate,
                               long deviceEvictions, long hostEvictions, long loads, long loadFailures,
                               double loadMeanMs, double loadP50Ms, double loadP90Ms, double loadP99Ms) {
        public static CacheFigures of(CacheCounters c) {
            return new CacheFigures(c.hits(Tier.DEVICE), c.misses(Tier.DEVICE), c.hitRate(Tier.DEVICE), c.hits(Tier.HOST), c.misses(Tier.HOST),
                    c.hitRate(Tier.HOST), c.evictions(Tier.DEVICE), c.evictions(Tier.HOST), c.loads(), c.loadFailures(),
                    1e3 * c.meanLoadSeconds(), 1e3 * c.loadQuantileSeconds(0.5), 1e3 * c.loadQuantileSeconds(0.9), 1e3 * c.loadQuantileSeconds(0.99));
        }
    }

    /** One timed pass of one part-B stream. */
    public record StreamRun(String stream, int round, int requests, int distinctAdapters, long tokens, double wallMs, double tokensPerSecond,
                            long passes, double forwardMs, double composeMs, CacheFigures cache) {}

    /**
     * One part-B stream over every round; {@code cache} sums the rounds' counters.
     *
     * @param tokensPerPass  generated tokens per forward pass (about the rows a pass runs)
     * @param msPerPass      forward time per pass
     * @param forwardShare   forward time over wall time; the rest is scheduling, sampling, device-slot writes, KV rebuilds and waiting
     */
    public record StreamSummary(String stream, int adapters, Spread tokensPerSecond, double tokensPerPass, double msPerPass, double forwardShare,
                                double composeShare, CacheFigures cache) {}

    /**
     * What one cache miss costs, timed one adapter at a time outside the engine (exact, nothing else running in the process):
     * loading from the store into host memory (read, validate, hash), and writing into a device slot of a bank like the engine's.
     */
    public record MissCosts(int count, double loadP50Ms, double loadP90Ms, double loadP99Ms, double loadMeanMs,
                            double writeP50Ms, double writeP90Ms, double writeMeanMs) {}

    /**
     * @param headMassDevice Zipf mass of the {@code deviceSlots} most popular adapters: the device hit rate of an oracle cache of that size
     * @param headMassHost   the same for the host tier's adapters
     */
    public record StreamPart(int manyAdapters, int fewAdapters, double zipfExponent, int deviceSlots, long deviceBytes, int hostAdapters,
                             long hostBytes, int requests, int rounds, int warmupRequests, int inFlight, int maxBatch,
                             int minPromptTokens, int maxPromptTokens, int minNewTokens, int maxNewTokens,
                             double headMassDevice, double headMassHost, List<StreamSummary> summaries, Ratio ratio,
                             MissCosts missCosts, List<StreamRun> runs) {}
}
