package dev.lorastream.bench;

import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.bench.BenchReport.BatchPart;
import dev.lorastream.bench.BenchReport.BatchRun;
import dev.lorastream.bench.BenchReport.BatchSummary;
import dev.lorastream.bench.BenchReport.Ratio;
import dev.lorastream.bench.BenchReport.Spread;
import dev.lorastream.engine.onnx.OnnxLoraEngine;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Part A: one batch whose rows use different adapters, the same batch on one adapter, and on the
 * plain backbone, each generated in shared forward passes ({@link OnnxLoraEngine#generate}); and
 * the backbone batch once more on an engine opened without adapters (no LoRA nodes in its graph), the floor of the LoRA path.
 * Every round runs each once, in a rotated order, so drift on a shared machine hits each alike;
 * ratios are taken inside a round, then the median over rounds.
 */
final class BatchBenchmark {
    static final String MULTI = "multi", SINGLE = "single", BACKBONE = "backbone", FLOOR = "backbone-r1";

    private BatchBenchmark() {}

    /** One configuration: a batch and the engine that runs it. */
    private record Config(String name, String adapters, OnnxLoraEngine engine, List<GenerationTask> batch) {}

    /**
     * @param engine a bank at the plan's rank holding {@code adapterIds}
     * @param floor  the same backbone opened without adapters (no LoRA in its graph): the backbone batch on it shows
     *               what the LoRA path (gathering each row's slot, x·A'·B' on the targeted groups) costs at the plan's rank
     */
    static BatchPart run(OnnxLoraEngine engine, OnnxLoraEngine floor, BenchPlan plan, List<String> adapterIds, PrintStream log) {
        int rows = plan.batchRows();
        List<String> none = Collections.nCopies(rows, null);
        List<Config> configs = List.of(
                new Config(MULTI, rows + " rows on " + rows + " different adapters", engine, Workloads.batch(plan, adapterIds.subList(0, rows), MULTI)),
                new Config(SINGLE, rows + " rows on one adapter", engine, Workloads.batch(plan, Collections.nCopies(rows, adapterIds.getFirst()), SINGLE)),
                new Config(BACKBONE, rows + " rows on the backbone (slot 0 of the rank-" + plan.rank() + " bank)", engine, Workloads.batch(plan, none, BACKBONE)),
                new Config(FLOOR, rows + " rows on the backbone, no LoRA in the graph", floor, Workloads.batch(plan, none, FLOOR)));
        for (Config c : configs) time(c, 0); // graph optimisation, JIT, first touch of the bank
        List<BatchRun> runs = new ArrayList<>();
        for (int round = 1; round <= plan.batchRounds(); round++) {
            for (int k = 0; k < configs.size(); k++) {
                BatchRun r = time(configs.get((k + round - 1) % configs.size()), round);
                runs.add(r);
                log.printf(Locale.ROOT, "  A round %d/%d %-11s decode %8.1f tok/s, end to end %8.1f tok/s%n", round, plan.batchRounds(), r.batch(),
                        r.decodeTokensPerSecond(), r.tokensPerSecond());
            }
        }
        List<BatchSummary> summaries = configs.stream().map(c -> summary(runs, c.name(), c.adapters())).toList();
        List<Ratio> ratios = List.of(
                ratio(runs, MULTI, BACKBONE, true), ratio(runs, SINGLE, BACKBONE, true), ratio(runs, MULTI, SINGLE, true),
                ratio(runs, BACKBONE, FLOOR, true), ratio(runs, MULTI, FLOOR, true),
                ratio(runs, MULTI, BACKBONE, false), ratio(runs, SINGLE, BACKBONE, false));
        return new BatchPart(rows, plan.batchPromptTokens(), plan.batchNewTokens(), plan.batchRounds(), summaries, ratios, runs);
    }

    /**
     * One batch, timed: wall clock around {@code generate}, and the engine's own split (prefill
     * pass, decode passes). Every row generates all its tokens (EOS ignored), so the decode passes
     * produce {@code newTokens - 1} tokens per row (the first comes from the prefill).
     */
    private static BatchRun time(Config c, int round) {
        List<GenerationTask> batch = c.batch();
        String name = c.name();
        long t0 = System.nanoTime();
        List<Generation> out = c.engine().generate(batch);
        double wallMs = (System.nanoTime() - t0) / 1e6;
        long tokens = 0;
        double prefillMs = 0, decodeMs = 0;
        for (int i = 0; i < out.size(); i++) {
            Generation g = out.get(i);
            if (g.tokenIds().length != batch.get(i).maxNewTokens()) {
                throw new IllegalStateException(g.requestId() + " generated " + g.tokenIds().length + " tokens, expected " + batch.get(i).maxNewTokens());
            }
            tokens += g.tokenIds().length;
            prefillMs = Math.max(prefillMs, g.prefillMs());
            decodeMs = Math.max(decodeMs, g.decodeMs());
        }
        long decodeTokens = tokens - out.size();
        return new BatchRun(name, round, out.size(), tokens, wallMs, prefillMs, decodeMs, tokens / (wallMs / 1e3),
                decodeMs > 0 ? decodeTokens / (decodeMs / 1e3) : Double.NaN);
    }

    private static BatchSummary summary(List<BatchRun> runs, String name, String adapters) {
        List<BatchRun> mine = runs.stream().filter(r -> r.batch().equals(name)).toList();
        return new BatchSummary(name, adapters, Spread.of(mine.stream().mapToDouble(BatchRun::decodeTokensPerSecond).toArray()),
                Spread.of(mine.stream().mapToDouble(BatchRun::tokensPerSecond).toArray()),
                Spread.of(mine.stream().mapToDouble(BatchRun::prefillMs).toArray()));
    }

    /** Per-round ratio of tokens/s (decode passes only, or end to end), over rounds. */
    private static Ratio ratio(List<BatchRun> runs, String top, String bottom, boolean decode) {
        int rounds = runs.stream().mapToInt(BatchRun::round).max().orElse(0);
        double[] values = new double[rounds], tops = new double[rounds], bottoms = new double[rounds];
        for (int round = 1; round <= rounds; round++) {
            tops[round - 1] = rate(runs, top, round, decode);
            bottoms[round - 1] = rate(runs, bottom, round, decode);
            values[round - 1] = tops[round - 1] / bottoms[round - 1];
        }
        return new Ratio(top + "/" + bottom, decode ? "decode tokens/s" : "end-to-end tokens/s", Spread.of(values),
                Percentiles.max(tops) / Percentiles.max(bottoms));
    }

    private static double rate(List<BatchRun> runs, String name, int round, boolean decode) {
        BatchRun r = runs.stream().filter(x -> x.batch().equals(name) && x.round() == round).findFirst().orElseThrow();
        return decode ? r.decodeTokensPerSecond() : r.tokensPerSecond();
    }
}
