package dev.lorastream.bench;

import dev.lorastream.engine.EngineConfig;
import dev.lorastream.bench.BenchReport.BatchPart;
import dev.lorastream.bench.BenchReport.ModelShape;
import dev.lorastream.bench.BenchReport.StreamPart;
import dev.lorastream.engine.adapters.cache.CacheConfig;
import dev.lorastream.engine.demo.RandomModels.BackboneSpec;
import dev.lorastream.engine.adapters.AdapterBank;
import dev.lorastream.engine.adapters.AdapterLoader;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.onnx.OnnxLoraEngine;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The CPU benchmark of the LoRA engine, in one run on seeded random models written to a temp dir
 * (removed afterwards): part A, one batch on many adapters vs one adapter vs the backbone
 * ({@link BatchBenchmark}); part B, a Zipf stream over many adapters through a small cache vs the
 * same stream over a few resident ones ({@link CacheBenchmark}). Configurations are interleaved
 * round by round and compared by ratios taken inside a round, so that a machine shared with other
 * work skews them less than it skews the absolute figures.
 */
public final class CpuBenchmark {
    private CpuBenchmark() {}

    /**
     * Runs the plan.
     *
     * @param command how the run was started, for the report
     * @param log     progress lines
     */
    public static BenchReport run(BenchPlan plan, String command, PrintStream log) {
        Path dir;
        try {
            dir = Files.createTempDirectory("lorastream-bench-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the benchmark's temp dir: " + e.getMessage(), e);
        }
        try {
            return run(plan, command, dir, log);
        } finally {
            deleteRecursively(dir);
        }
    }

    private static BenchReport run(BenchPlan plan, String command, Path dir, PrintStream log) {
        long t0 = System.nanoTime();
        Instant started = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Machine machine = Machine.current();
        double loadAtStart = loadAverage();
        log.println("bench-cpu (" + plan.name() + "): " + machine.describe());
        BenchModels models = BenchModels.write(plan, dir);
        log.printf(Locale.ROOT, "  wrote the backbone and %d + %d adapters to %s in %.1f s%n", models.manyIds().size(), models.fewIds().size(), dir,
                (System.nanoTime() - t0) / 1e9);
        ModelConfig config = ModelConfig.read(models.backbone());
        long slotBytes = AdapterBank.slotBytes(config, plan.rank());
        String first = models.fewIds().getFirst();
        long adapterBytes = new AdapterLoader(config, Set.of(plan.backbone().name()), plan.rank()).load(first, models.fewStore().resolve(first)).sizeBytes();
        CacheConfig cache = cacheConfig(plan, slotBytes, adapterBytes);
        ModelShape shape = shape(plan, adapterBytes, slotBytes);

        EngineConfig fewConfig = new EngineConfig(models.backbone(), models.fewStore(), "cpu", plan.maxBatch()).withMaxLoraRank(plan.rank());
        EngineConfig manyConfig = new EngineConfig(models.backbone(), models.manyStore(), "cpu", plan.maxBatch()).withMaxLoraRank(plan.rank());
        BatchPart batch;
        CacheBenchmark.Result streams;
        EngineConfig floorConfig = new EngineConfig(models.backbone(), null, "cpu", plan.maxBatch()).withMaxLoraRank(1);
        try (OnnxLoraEngine few = OnnxLoraEngine.open(fewConfig, cache); OnnxLoraEngine many = OnnxLoraEngine.open(manyConfig, cache)) {
            check(few, plan);
            check(many, plan);
            log.println("  A: one batch of " + plan.batchRows() + " rows, " + plan.batchPromptTokens() + "-token prompts, " + plan.batchNewTokens()
                    + " new tokens, " + plan.batchRounds() + " rounds");
            try (OnnxLoraEngine floor = OnnxLoraEngine.open(floorConfig)) {
                batch = BatchBenchmark.run(few, floor, plan, models.fewIds(), log);
            }
            log.println("  B: " + plan.streamRequests() + " requests per stream, " + plan.streamRounds() + " rounds, Zipf(" + plan.zipfExponent()
                    + ") over " + plan.manyAdapters() + " adapters vs " + plan.fewAdapters());
            streams = CacheBenchmark.run(many, few, plan, models, log);
        }
        ZipfSampler zipf = new ZipfSampler(plan.manyAdapters(), plan.zipfExponent(), 0);
        StreamPart stream = new StreamPart(plan.manyAdapters(), plan.fewAdapters(), plan.zipfExponent(), plan.deviceAdapters(), cache.deviceBytes(),
                plan.hostAdapters(), cache.hostBytes(), plan.streamRequests(), plan.streamRounds(), plan.warmupRequests(), plan.inFlight(), plan.maxBatch(),
                plan.minPromptTokens(), plan.maxPromptTokens(), plan.minNewTokens(), plan.maxNewTokens(),
                zipf.headMass(plan.deviceAdapters()), zipf.headMass(plan.hostAdapters()), streams.summaries(), streams.ratio(), streams.missCosts(), streams.runs());
        double seconds = (System.nanoTime() - t0) / 1e9;
        log.printf(Locale.ROOT, "  done in %.0f s%n", seconds);
        return new BenchReport(command, plan.name(), started.toString(), seconds, machine, fewConfig.effectiveIntraOpThreads(), loadAtStart, loadAverage(),
                shape, batch, stream);
    }

    /** Device bytes for exactly {@code deviceAdapters} slots at the max rank; host bytes for exactly {@code hostAdapters} adapters' weights. */
    static CacheConfig cacheConfig(BenchPlan plan, long slotBytes, long adapterBytes) {
        long device = plan.deviceAdapters() * slotBytes, host = plan.hostAdapters() * adapterBytes;
        if (host < device) {
            throw new IllegalArgumentException("benchmark plan: " + plan.hostAdapters() + " adapters of " + adapterBytes + " bytes (" + host
                    + ") do not cover " + plan.deviceAdapters() + " device slots of " + slotBytes + " bytes (" + device + "); the host tier must hold at least the device tier");
        }
        return CacheConfig.ofBytes(device, host);
    }

    private static void check(OnnxLoraEngine engine, BenchPlan plan) {
        int slots = engine.status().cache().capacities().deviceSlots();
        if (slots != plan.deviceAdapters()) throw new IllegalStateException("the engine made " + slots + " device slots, the plan asks for " + plan.deviceAdapters());
    }

    static ModelShape shape(BenchPlan plan, long adapterBytes, long slotBytes) {
        BackboneSpec s = plan.backbone();
        long params = (long) s.vocab() * s.hidden() * (s.tieEmbeddings() ? 1 : 2) + s.hidden();
        for (Projection p : Projection.values()) params += (long) s.layers() * ((long) s.in(p) * s.out(p) + (s.hasBias(p) ? s.out(p) : 0));
        params += 2L * s.layers() * s.hidden();
        return new ModelShape(s.modelType(), s.hidden(), s.layers(), s.heads(), s.kvHeads(), s.headDim(), s.intermediate(), s.vocab(), params,
                plan.rank(), plan.targets(), adapterBytes, slotBytes);
    }

    /** The system's one-minute load average: how busy the machine was besides this run (NaN where unknown). */
    private static double loadAverage() {
        double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return load < 0 ? Double.NaN : load;
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a leftover in the temp dir is harmless
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
