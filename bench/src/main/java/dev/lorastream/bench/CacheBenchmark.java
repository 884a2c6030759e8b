package dev.lorastream.bench;

import ai.onnxruntime.OrtEnvironment;
import dev.lorastream.bench.BenchReport.CacheFigures;
import dev.lorastream.bench.BenchReport.MissCosts;
import dev.lorastream.bench.BenchReport.Ratio;
import dev.lorastream.bench.BenchReport.Spread;
import dev.lorastream.bench.BenchReport.StreamRun;
import dev.lorastream.bench.BenchReport.StreamSummary;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.adapters.AdapterBank;
import dev.lorastream.engine.adapters.AdapterLoader;
import dev.lorastream.engine.adapters.LoraAdapter;
import dev.lorastream.engine.graph.BankLayout;
import dev.lorastream.engine.graph.Precision;
import dev.lorastream.engine.onnx.OnnxLoraEngine;
import dev.lorastream.engine.runtime.DeviceMemory;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Part B: a stream of requests over many adapters with Zipf popularity, through an engine whose
 * cache holds a fraction of them, against the same stream (same prompts, lengths and order) over
 * a few adapters that stay resident. Requests go through {@link OnnxLoraEngine#submit} (the
 * continuous batcher's own loop) from a closed loop keeping {@link BenchPlan#inFlight()}
 * outstanding. Rounds alternate which engine goes first; the cache figures are the deltas of the
 * engine's own counters over each measured pass.
 */
final class CacheBenchmark {
    static final String MANY = "many", FEW = "few";

    private CacheBenchmark() {}

    record Result(List<StreamSummary> summaries, Ratio ratio, MissCosts missCosts, List<StreamRun> runs) {}

    /** A measured pass and the raw counters it added (summed over rounds before rates and quantiles are taken). */
    record Pass(StreamRun run, CacheCounters counters) {}

    static Result run(OnnxLoraEngine many, OnnxLoraEngine few, BenchPlan plan, BenchModels models, PrintStream log) {
        MissCosts costs = missCosts(many, plan, models);
        log.printf(Locale.ROOT, "  B one miss, in isolation: store load p50 %.2f ms, p90 %.2f ms; device-slot write p50 %.2f ms, p90 %.2f ms%n",
                costs.loadP50Ms(), costs.loadP90Ms(), costs.writeP50Ms(), costs.writeP90Ms());
        int[] manyOrder = Workloads.popularityOrder(plan.manyAdapters(), plan.seed() ^ 0x21FFL);
        List<String> fewIds = models.fewIds().subList(0, plan.fewAdapters());
        int[] fewOrder = Workloads.identityOrder(plan.fewAdapters());
        if (plan.warmupRequests() > 0) {
            long seed = plan.seed() * 1_000_003L;
            stream(few, FEW, 0, Workloads.stream(plan, plan.warmupRequests(), seed, fewIds, fewOrder, "warm-few"), plan.inFlight());
            stream(many, MANY, 0, Workloads.stream(plan, plan.warmupRequests(), seed, models.manyIds(), manyOrder, "warm-many"), plan.inFlight());
        }
        List<Pass> passes = new ArrayList<>();
        for (int round = 1; round <= plan.streamRounds(); round++) {
            long seed = plan.seed() * 1_000_003L + round;
            List<GenerationTask> fewStream = Workloads.stream(plan, plan.streamRequests(), seed, fewIds, fewOrder, "few-" + round);
            List<GenerationTask> manyStream = Workloads.stream(plan, plan.streamRequests(), seed, models.manyIds(), manyOrder, "many-" + round);
            boolean fewFirst = round % 2 == 1;
            for (int k = 0; k < 2; k++) {
                boolean isFew = (k == 0) == fewFirst;
                Pass pass = isFew ? stream(few, FEW, round, fewStream, plan.inFlight()) : stream(many, MANY, round, manyStream, plan.inFlight());
                passes.add(pass);
                StreamRun r = pass.run();
                log.printf(Locale.ROOT, "  B round %d/%d %-4s %8.1f tok/s, device hit rate %.3f, host hit rate %.3f, %d loads%n", round,
                        plan.streamRounds(), r.stream(), r.tokensPerSecond(), r.cache().deviceHitRate(), r.cache().hostHitRate(), r.cache().loads());
            }
        }
        List<StreamRun> runs = passes.stream().map(Pass::run).toList();
        List<StreamSummary> summaries = List.of(summary(passes, MANY, plan.manyAdapters()), summary(passes, FEW, plan.fewAdapters()));
        double[] ratios = new double[plan.streamRounds()], manyRates = new double[plan.streamRounds()], fewRates = new double[plan.streamRounds()];
        for (int round = 1; round <= plan.streamRounds(); round++) {
            manyRates[round - 1] = rate(runs, MANY, round);
            fewRates[round - 1] = rate(runs, FEW, round);
            ratios[round - 1] = manyRates[round - 1] / fewRates[round - 1];
        }
        Ratio ratio = new Ratio(plan.manyAdapters() + "/" + plan.fewAdapters(), "tokens/s", Spread.of(ratios),
                Percentiles.max(manyRates) / Percentiles.max(fewRates));
        return new Result(summaries, ratio, costs, runs);
    }

    /** One closed-loop stream of the tasks, as a row of the report. */
    static Pass stream(OnnxLoraEngine engine, String name, int round, List<GenerationTask> tasks, int inFlight) {
        ClosedLoop.Outcome o = ClosedLoop.run(engine, tasks, inFlight);
        return new Pass(new StreamRun(name, round, o.requests(), o.distinctAdapters(), o.tokens(), o.wallMs(), o.tokensPerSecond(),
                o.passes(), o.forwardMs(), o.composeMs(), CacheFigures.of(o.cache())), o.cache());
    }

    /**
     * Loads adapters of the many-adapter store one by one with the engine's loader (read, validate,
     * hash) and writes each into a slot of a bank shaped like the engine's, outside the engine.
     */
    private static MissCosts missCosts(OnnxLoraEngine engine, BenchPlan plan, BenchModels models) {
        int n = Math.min(plan.isolatedLoads(), models.manyIds().size());
        if (n == 0) return new MissCosts(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        AdapterLoader loader = new AdapterLoader(engine.modelConfig(), Set.of(plan.backbone().name()), plan.rank());
        List<String> ids = models.manyIds();
        double[] load = new double[n], write = new double[n];
        try (AdapterBank bank = AdapterBank.allocate(DeviceMemory.host(OrtEnvironment.getEnvironment()), engine.modelConfig(),
                new BankLayout(engine.status().bank().ranks(), plan.deviceAdapters() + 1, Precision.FP32))) {
            for (int i = 0; i < n; i++) {
                String id = ids.get(ids.size() - 1 - i * (ids.size() / n)); // spread over the store, from its end (the engine warms from its start)
                long t0 = System.nanoTime();
                LoraAdapter adapter = loader.load(id, models.manyStore().resolve(id));
                long t1 = System.nanoTime();
                bank.write(1 + i % plan.deviceAdapters(), adapter);
                write[i] = (System.nanoTime() - t1) / 1e6;
                load[i] = (t1 - t0) / 1e6;
            }
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot allocate a LoRA bank to time slot writes: " + e.getMessage(), e);
        }
        return new MissCosts(n, Percentiles.percentile(load, 50), Percentiles.percentile(load, 90), Percentiles.percentile(load, 99), mean(load),
                Percentiles.percentile(write, 50), Percentiles.percentile(write, 90), mean(write));
    }

    private static double mean(double[] v) { return java.util.Arrays.stream(v).average().orElse(Double.NaN); }

    private static StreamSummary summary(List<Pass> all, String name, int adapters) {
        List<Pass> mine = all.stream().filter(p -> p.run().stream().equals(name)).toList();
        CacheFigures total = CacheFigures.of(mine.stream().map(Pass::counters).reduce(CacheCounters.zero(), CacheCounters::plus));
        List<StreamRun> runs = mine.stream().map(Pass::run).toList();
        long tokens = runs.stream().mapToLong(StreamRun::tokens).sum(), passes = runs.stream().mapToLong(StreamRun::passes).sum();
        double wall = runs.stream().mapToDouble(StreamRun::wallMs).sum(), forward = runs.stream().mapToDouble(StreamRun::forwardMs).sum();
        double compose = runs.stream().mapToDouble(StreamRun::composeMs).sum();
        return new StreamSummary(name, adapters, Spread.of(runs.stream().mapToDouble(StreamRun::tokensPerSecond).toArray()),
                (double) tokens / passes, forward / passes, forward / wall, compose / wall, total);
    }

    private static double rate(List<StreamRun> runs, String name, int round) {
        return runs.stream().filter(r -> r.stream().equals(name) && r.round() == round).findFirst().orElseThrow().tokensPerSecond();
    }
}
