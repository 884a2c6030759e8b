package dev.lorastream.bench.gpu;

import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.bench.CacheCounters;
import dev.lorastream.bench.ClosedLoop;
import dev.lorastream.bench.ZipfSampler;
import dev.lorastream.engine.adapters.cache.CacheConfig;
import dev.lorastream.engine.adapters.cache.Tier;
import dev.lorastream.engine.demo.RandomModels;
import dev.lorastream.engine.graph.GraphCache;
import dev.lorastream.engine.model.FloatTensor;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.model.WeightNames;
import dev.lorastream.engine.onnx.OnnxLoraEngine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Items 2 and 4 of the GPU benchmark.
 * <ul>
 *   <li>{@link #sustained}: a closed-loop stream of requests (Zipf(1.0) popularity over the adapters,
 *       {@code batch} in flight) through {@link OnnxLoraEngine#submit}, over many adapters (device
 *       bank smaller than the working set) and over a few; tokens/s and the cache's hit rates per
 *       tier from the engine's own counters;</li>
 *   <li>{@link #dedicated}: the alternative of one merged-weights model per fine-tune, loaded on
 *       demand (a fresh ONNX Runtime session of {@code W + scaling·B·A}) with as many resident as the
 *       same device-memory budget holds, against the engine on the same request streams.</li>
 * </ul>
 */
final class ManyAdapters {
    private ManyAdapters() {}

    /** {@code n} requests; adapter of each drawn with Zipf({@code s}) popularity over {@code ids} (rank 0 = ids[0]). */
    static List<GenerationTask> stream(String prefix, List<String> ids, double s, int n, long seed, RandomModels.BackboneSpec spec,
                                       int promptLen, int newTokens) {
        ZipfSampler z = new ZipfSampler(ids.size(), s, seed);
        Random rnd = new Random(seed ^ 0x5DEECE66DL);
        List<GenerationTask> t = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int[] p = new int[promptLen];
            p[0] = spec.bosId();
            for (int k = 1; k < promptLen; k++) p[k] = 3 + rnd.nextInt(Math.min(spec.vocab(), 128000) - 3);
            t.add(new GenerationTask(prefix + i, ids.get(z.next()), p, newTokens, 0f, 1f, 0, 1L, true));
        }
        return t;
    }

    /** One closed-loop stream of the tasks ({@link ClosedLoop}): tokens/s and the cache counters it added. */
    static Map<String, Object> pass(OnnxLoraEngine engine, String name, List<GenerationTask> tasks, int inFlight) {
        long[] gc0 = gcTotals();
        ClosedLoop.Outcome o = ClosedLoop.run(engine, tasks, inFlight);
        long[] gc1 = gcTotals();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("requests", o.requests());
        m.put("distinct_adapters", (long) o.distinctAdapters());
        m.put("tokens", o.tokens());
        m.put("wall_ms", GpuCheck.round(o.wallMs()));
        m.put("tokens_per_s", GpuCheck.round(o.tokensPerSecond()));
        m.put("forward_passes", o.passes());
        m.put("rows_per_pass", GpuCheck.round((double) o.tokens() / Math.max(1, o.passes())));
        m.put("forward_ms", GpuCheck.round(o.forwardMs()));
        m.putAll(tiers(o.cache()));
        m.put("gc_collections", gc1[0] - gc0[0]);
        m.put("gc_ms", gc1[1] - gc0[1]); // stop-the-world collection time over the pass
        System.out.printf(Locale.ROOT, "bench: stream %-12s %d requests, %d adapters: %.1f tok/s, %s ms forward per pass, GC %d ms, %s%n", name, tasks.size(),
                (long) m.get("distinct_adapters"), (double) m.get("tokens_per_s"), m.get("forward_ms"), gc1[1] - gc0[1], tiers(o.cache()));
        return m;
    }

    /** Tokens per second of one stream over all its passes together. */
    static double pooledRate(List<Map<String, Object>> passes, String stream) {
        long tokens = 0;
        double ms = 0;
        for (Map<String, Object> p : passes) {
            if (!stream.equals(p.get("stream"))) continue;
            tokens += ((Number) p.get("tokens")).longValue();
            ms += ((Number) p.get("wall_ms")).doubleValue();
        }
        return ms == 0 ? 0 : tokens / (ms / 1e3);
    }

    /** Collections and milliseconds of collection so far, over the JVM's stop-the-world collectors (G1's concurrent cycles left out). */
    static long[] gcTotals() {
        long n = 0, ms = 0;
        for (java.lang.management.GarbageCollectorMXBean b : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            if (b.getName().contains("Concurrent")) continue;
            n += Math.max(0, b.getCollectionCount());
            ms += Math.max(0, b.getCollectionTime());
        }
        return new long[] {n, ms};
    }

    static Map<String, Object> tiers(CacheCounters d) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Tier t : Tier.values()) {
            long h = d.hits()[t.ordinal()], mi = d.misses()[t.ordinal()];
            String k = t.name().toLowerCase(Locale.ROOT);
            m.put(k + "_hits", h);
            m.put(k + "_misses", mi);
            m.put(k + "_hit_rate", h + mi == 0 ? null : GpuCheck.round4((double) h / (h + mi)));
            m.put(k + "_evictions", d.evictions()[t.ordinal()]);
        }
        m.put("store_loads", d.loads());
        m.put("store_load_ms_mean", d.loads() == 0 ? null : GpuCheck.round(d.loadSeconds() * 1e3 / d.loads()));
        return m;
    }

    /** Item 2: the many-adapter stream vs the few-adapter stream, {@code rounds} rounds alternating which goes first. */
    static Map<String, Object> sustained(OnnxLoraEngine engine, List<String> many, List<String> few, RandomModels.BackboneSpec spec, int batch,
                                         int promptLen, int newTokens, int requests, int rounds, Map<String, Object> report) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("many_adapters", many.size());
        m.put("few_adapters", few.size());
        m.put("popularity", "Zipf(1.0)");
        m.put("in_flight", batch);
        m.put("requests_per_pass", requests);
        m.put("device_slots", engine.status().bank().slots() - 1);
        m.put("host_tier_bytes", engine.status().cache().capacities().hostBytes());
        ZipfSampler z = new ZipfSampler(many.size(), 1.0, 1);
        m.put("zipf_head_mass_of_device_slots", GpuCheck.round4(z.headMass(engine.status().bank().slots() - 1)));
        // warm-up: the few adapters resident; the many-adapter cache filled with the popular ones
        pass(engine, "warm-few", stream("wf", few, 1.0, batch, 11, spec, promptLen, newTokens), batch);
        pass(engine, "warm-many", stream("wm", many, 1.0, 2 * batch, 12, spec, promptLen, newTokens), batch);
        List<Map<String, Object>> passes = new ArrayList<>();
        double bestMany = 0, bestFew = 0;
        List<Double> ratios = new ArrayList<>();
        for (int r = 1; r <= rounds; r++) {
            List<GenerationTask> f = stream("few" + r + "-", few, 1.0, requests, 100 + r, spec, promptLen, newTokens);
            List<GenerationTask> mm = stream("many" + r + "-", many, 1.0, requests, 100 + r, spec, promptLen, newTokens);
            Map<String, Object> pf = null, pm = null;
            for (int k = 0; k < 2; k++) {
                if ((k == 0) == (r % 2 == 1)) pf = pass(engine, "few", f, batch);
                else pm = pass(engine, "many", mm, batch);
            }
            pf.put("stream", "few");
            pf.put("round", r);
            pm.put("stream", "many");
            pm.put("round", r);
            passes.add(pm);
            passes.add(pf);
            double a = (double) pm.get("tokens_per_s"), b = (double) pf.get("tokens_per_s");
            bestMany = Math.max(bestMany, a);
            bestFew = Math.max(bestFew, b);
            ratios.add(GpuCheck.round4(a / b));
        }
        m.put("passes", passes);
        m.put("many_tokens_per_s", bestMany);
        m.put("few_tokens_per_s", bestFew);
        m.put("ratio_per_round", ratios);
        // the lower median: with two rounds, the worse one
        double ratio = GpuCheck.round4(ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray()[(ratios.size() - 1) / 2]);
        m.put("many_adapters_ratio", ratio);
        report.put("many_adapters_ratio", ratio);
        // pooled: all rounds' tokens over all rounds' time, per stream (the alternating order cancels drift of the device's speed)
        double pooled = GpuCheck.round4(pooledRate(passes, "many") / pooledRate(passes, "few"));
        m.put("many_adapters_ratio_pooled", pooled);
        report.put("many_adapters_ratio_pooled", pooled);
        System.out.println("bench: many_adapters_ratio " + ratio + " (lower median of rounds " + ratios + "), pooled over the rounds " + pooled);
        return m;
    }

    /** {@code scaling · B · A} per q,k,v,o weight of the adapter with this seed, row-major [out, in]. */
    static Map<String, float[]> deltas(RandomModels.BackboneSpec s, int rank, long seed) {
        RandomModels.LoraSpec lora = GpuBench.loraSpec(s, rank);
        Map<String, FloatTensor> w = RandomModels.lora(s, lora, seed);
        float scaling = (float) (lora.alpha() / lora.r());
        Map<String, float[]> d = new HashMap<>();
        for (int l = 0; l < s.layers(); l++) {
            for (String t : GpuBench.TARGETS) {
                Projection p = Projection.byModuleName(t).orElseThrow();
                String prefix = "base_model.model." + p.modulePath(l);
                float[] a = w.get(prefix + ".lora_A.weight").data(), b = w.get(prefix + ".lora_B.weight").data();
                int in = s.in(p), out = s.out(p);
                float[] delta = new float[out * in];
                IntStream.range(0, out).parallel().forEach(o -> {
                    for (int k = 0; k < rank; k++) {
                        float bk = scaling * b[o * rank + k];
                        int ak = k * in, row = o * in;
                        for (int i = 0; i < in; i++) delta[row + i] += bk * a[ak + i];
                    }
                });
                d.put(WeightNames.weight(l, p), delta);
            }
        }
        return d;
    }

    /**
     * Item 4. For each adapter count: the same request stream (Zipf(1.0) over the first {@code n}
     * adapters, {@code requests} requests) through the engine, and through dedicated models: the
     * requests taken {@code batch} at a time in arrival order, grouped by adapter; a group whose
     * model is not resident loads it (a new engine on its merged checkpoint, its decoder graph built
     * beforehand: a session on a file already on the host's disk), evicting the least recently used
     * when the budget is full; then the group generates as one batch. A dedicated run stops at
     * {@code capMs} of wall time; its tokens/s is the tokens it finished over the time it took.
     * Every adapter's dedicated model is a session on one merged checkpoint (W + scaling·B·A of the
     * first adapter): the loads are real, the merged weights are shared between the ids.
     */
    static Map<String, Object> dedicated(OnnxLoraEngine engine, Path work, RandomModels.BackboneSpec spec, Path backbone, int rank, long firstSeed,
                                         List<String> ids, int[] counts, int batch, int promptLen, int newTokens, int requests, long capMs,
                                         String provider, String precision, Map<String, Object> report) throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        Path merged = work.resolve("merged-" + spec.name() + "-r" + rank + "-s" + firstSeed);
        GpuBench.writeBackbone(merged, spec, 7, deltas(spec, rank, firstSeed));
        Path empty = Files.createDirectories(work.resolve("no-adapters"));
        m.put("merged_checkpoint_write_ms", GpuCheck.ms(System.nanoTime() - t0));
        EngineConfig dc = new EngineConfig(merged, empty, provider, batch).withMaxLoraRank(1).withPrecision(precision)
                .withMaxNewTokensLimit(newTokens);
        if (provider.startsWith("cpu")) dc = dc.withIntraOpThreads(Runtime.getRuntime().availableProcessors());
        long slot1 = dev.lorastream.engine.adapters.AdapterBank.slotBytes(dev.lorastream.engine.model.ModelConfig.read(merged), 1);
        CacheConfig dcache = CacheConfig.ofBytes(slot1, slot1);
        // the graph built once, outside the clock (a dedicated deployment keeps one per fine-tune on disk)
        t0 = System.nanoTime();
        long used0 = DeviceMemoryInfo.usedBytes(provider);
        long modelBytes;
        try (OnnxLoraEngine d = OnnxLoraEngine.open(dc, dcache)) {
            m.put("first_open_with_graph_build_ms", GpuCheck.ms(System.nanoTime() - t0));
            modelBytes = Files.size(merged.resolve("model.safetensors"));
            long used = DeviceMemoryInfo.usedBytes(provider);
            m.put("device_bytes_one_dedicated_model_measured", used >= 0 && used0 >= 0 ? used - used0 : null);
        }
        t0 = System.nanoTime();
        GraphCache.contentHash(merged);
        double hashMs = GpuCheck.ms(System.nanoTime() - t0);
        m.put("checkpoint_hash_ms", hashMs);
        // the budget: what the engine holds on the device (backbone weights, bank, KV cache of the batch)
        long kv = 2L * spec.layers() * batch * (promptLen + newTokens) * spec.kvHeads() * (spec.hidden() / spec.heads()) * 2;
        long oursBytes = modelBytes + engine.status().bank().bytes() + kv;
        int resident = (int) Math.max(1, oursBytes / (modelBytes + kv));
        m.put("budget_bytes", oursBytes);
        m.put("budget", "the engine's backbone weights (" + modelBytes + " B fp16) + LoRA bank (" + engine.status().bank().bytes() + " B) + KV cache for "
                + batch + " rows of " + (promptLen + newTokens) + " tokens (" + kv + " B)");
        m.put("dedicated_models_resident", resident);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int n : counts) {
            List<String> sub = ids.subList(0, n);
            List<GenerationTask> tasks = stream("n" + n + "-", sub, 1.0, requests, 500 + n, spec, promptLen, newTokens);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("adapters", n);
            Map<String, Object> ours = pass(engine, "ours-" + n, tasks, batch);
            row.put("ours_tokens_per_s", ours.get("tokens_per_s"));
            row.put("ours", ours);
            row.put("ours_device_bytes", oursBytes);
            row.put("dedicated", dedicatedRun(dc, dcache, tasks, batch, resident, capMs, hashMs, modelBytes, kv));
            row.put("dedicated_tokens_per_s", ((Map<?, ?>) row.get("dedicated")).get("tokens_per_s"));
            double ratio = (double) ours.get("tokens_per_s") / (double) row.get("dedicated_tokens_per_s");
            row.put("ours_vs_dedicated", GpuCheck.round(ratio));
            rows.add(row);
            System.out.println("bench: adapters " + n + ": ours " + ours.get("tokens_per_s") + " tok/s, dedicated " + row.get("dedicated_tokens_per_s")
                    + " tok/s, ratio " + GpuCheck.round(ratio));
        }
        m.put("by_adapters", rows);
        Map<String, Object> last = rows.getLast();
        if ((int) last.get("adapters") == 100) {
            report.put("vs_naive_100", last.get("ours_vs_dedicated"));
            Map<?, ?> d = (Map<?, ?>) last.get("dedicated");
            report.put("vs_naive_100_hash_excluded", GpuCheck.round((double) last.get("ours_tokens_per_s") / (double) d.get("tokens_per_s_hash_excluded")));
        }
        return m;
    }

    private static Map<String, Object> dedicatedRun(EngineConfig dc, CacheConfig dcache, List<GenerationTask> tasks, int batch, int resident, long capMs,
                                                    double hashMs, long modelBytes, long kv) {
        LinkedHashMap<String, OnnxLoraEngine> loaded = new LinkedHashMap<>(16, 0.75f, true);
        List<Double> loadMs = new ArrayList<>();
        long tokens = 0, done = 0, groups = 0;
        long t0 = System.nanoTime();
        double genMs = 0;
        boolean capped = false;
        try {
            outer:
            for (int w = 0; w < tasks.size(); w += batch) {
                Map<String, List<GenerationTask>> byAdapter = new LinkedHashMap<>();
                for (GenerationTask t : tasks.subList(w, Math.min(tasks.size(), w + batch))) {
                    byAdapter.computeIfAbsent(t.adapterId(), k -> new ArrayList<>()).add(t);
                }
                for (Map.Entry<String, List<GenerationTask>> g : byAdapter.entrySet()) {
                    if ((System.nanoTime() - t0) / 1e6 > capMs) {
                        capped = true;
                        break outer;
                    }
                    OnnxLoraEngine e = loaded.get(g.getKey());
                    if (e == null) {
                        while (loaded.size() >= resident) {
                            var it = loaded.entrySet().iterator();
                            it.next().getValue().close();
                            it.remove();
                        }
                        long l0 = System.nanoTime();
                        e = OnnxLoraEngine.open(dc, dcache);
                        loadMs.add(GpuCheck.ms(System.nanoTime() - l0));
                        loaded.put(g.getKey(), e);
                    }
                    List<GenerationTask> rows = new ArrayList<>();
                    for (GenerationTask t : g.getValue()) rows.add(new GenerationTask(t.requestId(), null, t.promptIds(), t.maxNewTokens(), 0f, 1f, 0, 1L, true));
                    long g0 = System.nanoTime();
                    for (Generation gen : e.generate(rows)) tokens += gen.tokenIds().length;
                    genMs += (System.nanoTime() - g0) / 1e6;
                    done += rows.size();
                    groups++;
                }
            }
        } finally {
            loaded.values().forEach(OnnxLoraEngine::close);
        }
        double wallMs = (System.nanoTime() - t0) / 1e6;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("requests_done", done);
        m.put("requests", tasks.size());
        m.put("capped_at_ms", capped ? capMs : null);
        m.put("groups", groups);
        m.put("loads", loadMs.size());
        m.put("load_ms", loadMs);
        m.put("generate_ms", GpuCheck.round(genMs));
        m.put("tokens", tokens);
        m.put("wall_ms", GpuCheck.round(wallMs));
        m.put("tokens_per_s", GpuCheck.round(tokens / (wallMs / 1e3)));
        m.put("tokens_per_s_hash_excluded", GpuCheck.round(tokens / (Math.max(1, wallMs - hashMs * loadMs.size()) / 1e3)));
        m.put("device_bytes", resident * (modelBytes + kv));
        System.out.println("bench: dedicated " + m);
        return m;
    }
}
