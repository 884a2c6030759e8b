package dev.lorastream.engine.sim;

import java.util.List;
import java.util.Objects;

/**
 * What a forward pass, an adapter load and the device's memory cost in a {@link SimulatedEngine}:
 * figures measured on an H200 ({@link #h200()}) or made up for a test ({@link #linear}). All times are
 * simulated milliseconds, before the engine's time scale.
 *
 * <p>Decode: one step for {@code rows} rows is piecewise-linear in the rows between the measured batch
 * sizes ({@code decodeRows}), on two curves: every row on the plain backbone ({@code decodeBackboneMs})
 * and every row on its own adapter ({@code decodeDistinctMs}). A pass with {@code d} distinct adapters
 * over {@code rows} rows lies between them by the fraction {@code f = min(1, d / rows)}:
 * {@code backbone(rows) + f × (distinct(rows) − backbone(rows))} (0 for the plain backbone, 1 when
 * every row has its own adapter, 1/rows when all rows share one).
 *
 * <p>Prefill: one pass over the joiners' prompts, piecewise-linear in the pass's prompt tokens between
 * the measured points ({@code prefillTokens}, {@code prefillMs}); independent of adapters (measured so).
 *
 * <p>Outside a table: below its first point a curve keeps the first point's value (the smallest
 * measured pass is launch-bound, not proportional); above its last point it goes on with the last
 * segment's slope.
 *
 * @param name                name of the calibration, shown in metrics and logs (e.g. "h200-fused-2")
 * @param decodeRows          batch sizes of the decode tables, increasing, first at least 1
 * @param decodeBackboneMs    ms per decode step at those batch sizes, every row on the backbone
 * @param decodeDistinctMs    ms per decode step at those batch sizes, every row on its own adapter
 * @param prefillTokens       prompt tokens of one prefill pass at the measured points, increasing, first at least 1
 * @param prefillMs           ms of a prefill pass at those points
 * @param hostToDeviceMs      ms to copy one adapter from host memory into a device bank slot
 * @param storeToHostMs       ms to load one adapter from the store into host memory (read, validate, hash, pack)
 * @param deviceMemoryBytes   the device's memory in total
 * @param backboneWeightBytes the backbone's weights on the device
 * @param bankSlotBytes       device bytes of one LoRA bank slot
 * @param kvBytesPerToken     device bytes of one token in the KV cache (keys and values over every layer)
 */
public record CostModel(String name, List<Integer> decodeRows, List<Double> decodeBackboneMs, List<Double> decodeDistinctMs,
                        List<Integer> prefillTokens, List<Double> prefillMs, double hostToDeviceMs, double storeToHostMs,
                        long deviceMemoryBytes, long backboneWeightBytes, long bankSlotBytes, long kvBytesPerToken) {

    public CostModel {
        Objects.requireNonNull(name, "name");
        decodeRows = List.copyOf(decodeRows);
        decodeBackboneMs = List.copyOf(decodeBackboneMs);
        decodeDistinctMs = List.copyOf(decodeDistinctMs);
        prefillTokens = List.copyOf(prefillTokens);
        prefillMs = List.copyOf(prefillMs);
        checkTable("decodeRows", decodeRows, "decodeBackboneMs", decodeBackboneMs);
        checkTable("decodeRows", decodeRows, "decodeDistinctMs", decodeDistinctMs);
        checkTable("prefillTokens", prefillTokens, "prefillMs", prefillMs);
        checkTime("hostToDeviceMs", hostToDeviceMs);
        checkTime("storeToHostMs", storeToHostMs);
        if (deviceMemoryBytes <= 0) throw new IllegalArgumentException("deviceMemoryBytes must be positive, got " + deviceMemoryBytes);
        if (backboneWeightBytes < 0) throw new IllegalArgumentException("backboneWeightBytes must not be negative, got " + backboneWeightBytes);
        if (bankSlotBytes < 0) throw new IllegalArgumentException("bankSlotBytes must not be negative, got " + bankSlotBytes);
        if (kvBytesPerToken < 0) throw new IllegalArgumentException("kvBytesPerToken must not be negative, got " + kvBytesPerToken);
    }

    private static void checkTable(String xName, List<Integer> xs, String yName, List<Double> ys) {
        if (xs.isEmpty()) throw new IllegalArgumentException(xName + " must have at least one point");
        if (xs.size() != ys.size()) throw new IllegalArgumentException(yName + " has " + ys.size() + " values for " + xs.size() + " " + xName);
        if (xs.getFirst() < 1) throw new IllegalArgumentException(xName + " must start at 1 or more, got " + xs.getFirst());
        for (int i = 1; i < xs.size(); i++) {
            if (xs.get(i) <= xs.get(i - 1)) throw new IllegalArgumentException(xName + " must increase, got " + xs);
        }
        for (double y : ys) checkTime(yName, y);
    }

    private static void checkTime(String key, double ms) {
        if (!(ms >= 0) || Double.isInfinite(ms)) throw new IllegalArgumentException(key + " must be finite and not negative, got " + ms);
    }

    /**
     * The current engine on an NVIDIA H200 (fused fp16 graph, decode as CUDA graphs, Llama-3.2-1B shape,
     * rank-16 adapters on q,k,v,o), from {@code docs/benchmarks/gpu.json} and the run it was built from,
     * {@code bench/results/h200-fused-2/}. docs/sim-engine.md has the table with every source.
     */
    public static CostModel h200() {
        return new CostModel("h200-fused-2",
                // docs/benchmarks/gpu.json decode_table[*].batch
                List.of(1, 8, 32, 64, 128),
                // docs/benchmarks/gpu.json decode_table[*].ours_backbone_ms_per_step (h200-fused-2, best of 2 repeats)
                List.of(1.91, 16.37, 17.61, 22.61, 27.43),
                // docs/benchmarks/gpu.json decode_table[*].ours_distinct_ms_per_step (one distinct adapter per row)
                List.of(1.90, 16.50, 17.72, 23.02, 27.81),
                // gpu.json has no prefill figure of the current engine; its source run has them:
                // bench/results/h200-fused-2/gpu-bench-from-console.json decode_sweep.by_batch[*] (batch 1, 8, 32, 64, 128
                // x 128-token prompts) ...
                List.of(128, 1024, 4096, 8192, 16384),
                // ... .backbone_only.prefill_ms and .distinct_adapters.prefill_ms: the smallest of the four (warm) figures
                List.of(6.0, 22.0, 36.0, 59.0, 100.0),
                // bench/results/h200-fused-2/console.log "cold loads" from_host_ms_median = 0.2476 (9,961,472 B per slot);
                // docs/benchmarks/gpu.json cold_load_vs_bound = 1.3609 = 0.2476 / 0.1819 (the pinned-bandwidth bound)
                0.2476,
                // docs/benchmarks/gpu.json issue4.many_adapters_runs.{h200-lfu-small-host, h200-lfu-pool, h200-lfu-pool/bench-nopool,
                // h200-lfu-vs-lru/bench-lfu, h200-lfu-vs-lru/bench-lru}.store_load_ms: median of the ten figures (30.46-41.06 ms;
                // gpu.md issue 4 section 2: "30-41 ms each" after its fixes)
                34.755,
                // docs/benchmarks/gpu.md "Device and model": NVIDIA H200, 143,771 MiB = 143,771 x 2^20 bytes
                150_754_820_096L,
                // docs/benchmarks/gpu.json issue4.device_memory.ours_budget: "backbone weights (2471645456 B fp16)"
                2_471_645_456L,
                // bench/results/h200-fused-2/console.log: bank {slots=139, slot_bytes=9961472, ranks q,k,v,o = 16} (fp16)
                9_961_472L,
                // bench/results/h200-fused-2/console.log "static KV cache of 128 rows x 272 tokens, 1088 MiB" = 1,140,850,688 B /
                // 34,816 tokens; also gpu.json issue4.device_memory "KV cache for 32 rows of 256 tokens (268435456 B)"
                32_768L);
    }

    /**
     * A made-up model, for tests and what-ifs: decode {@code decodeFixedMs + decodeMsPerRow × rows} on the
     * backbone, plus {@code adapterMs} when every row has its own adapter; prefill
     * {@code prefillFixedMs + prefillMsPerToken × tokens}. Memory as {@link #h200()}.
     */
    public static CostModel linear(String name, double decodeFixedMs, double decodeMsPerRow, double adapterMs, double prefillFixedMs,
                                   double prefillMsPerToken, double hostToDeviceMs, double storeToHostMs) {
        CostModel h = h200();
        return new CostModel(name, List.of(1, 2),
                List.of(decodeFixedMs + decodeMsPerRow, decodeFixedMs + 2 * decodeMsPerRow),
                List.of(decodeFixedMs + decodeMsPerRow + adapterMs, decodeFixedMs + 2 * decodeMsPerRow + adapterMs),
                List.of(1, 2), List.of(prefillFixedMs + prefillMsPerToken, prefillFixedMs + 2 * prefillMsPerToken),
                hostToDeviceMs, storeToHostMs, h.deviceMemoryBytes, h.backboneWeightBytes, h.bankSlotBytes, h.kvBytesPerToken);
    }

    /** This model with other decode tables. */
    public CostModel withDecode(List<Integer> rows, List<Double> backboneMs, List<Double> distinctMs) {
        return new CostModel(name, rows, backboneMs, distinctMs, prefillTokens, prefillMs, hostToDeviceMs, storeToHostMs, deviceMemoryBytes,
                backboneWeightBytes, bankSlotBytes, kvBytesPerToken);
    }

    /** This model with another prefill table. */
    public CostModel withPrefill(List<Integer> tokens, List<Double> ms) {
        return new CostModel(name, decodeRows, decodeBackboneMs, decodeDistinctMs, tokens, ms, hostToDeviceMs, storeToHostMs, deviceMemoryBytes,
                backboneWeightBytes, bankSlotBytes, kvBytesPerToken);
    }

    /** This model with other adapter load times. */
    public CostModel withLoads(double hostToDevice, double storeToHost) {
        return new CostModel(name, decodeRows, decodeBackboneMs, decodeDistinctMs, prefillTokens, prefillMs, hostToDevice, storeToHost,
                deviceMemoryBytes, backboneWeightBytes, bankSlotBytes, kvBytesPerToken);
    }

    /** This model with other memory figures. */
    public CostModel withMemory(long deviceMemory, long backboneWeights, long bankSlot, long kvPerToken) {
        return new CostModel(name, decodeRows, decodeBackboneMs, decodeDistinctMs, prefillTokens, prefillMs, hostToDeviceMs, storeToHostMs,
                deviceMemory, backboneWeights, bankSlot, kvPerToken);
    }

    /** This model under another name. */
    public CostModel named(String newName) {
        return new CostModel(newName, decodeRows, decodeBackboneMs, decodeDistinctMs, prefillTokens, prefillMs, hostToDeviceMs, storeToHostMs,
                deviceMemoryBytes, backboneWeightBytes, bankSlotBytes, kvBytesPerToken);
    }

    /**
     * One decode step for {@code rows} rows of which {@code distinctAdapters} distinct adapters (the plain
     * backbone not counted); 0 for no rows.
     */
    public double decodeMs(int rows, int distinctAdapters) {
        if (rows < 0) throw new IllegalArgumentException("rows must not be negative, got " + rows);
        if (distinctAdapters < 0 || distinctAdapters > rows) {
            throw new IllegalArgumentException("distinctAdapters must be in [0, rows = " + rows + "], got " + distinctAdapters);
        }
        if (rows == 0) return 0;
        double base = interpolate(decodeRows, decodeBackboneMs, rows);
        double all = interpolate(decodeRows, decodeDistinctMs, rows);
        double f = Math.min(1.0, (double) distinctAdapters / rows);
        return base + f * (all - base);
    }

    /** One prefill pass over {@code promptTokens} prompt tokens (all its rows together); 0 for none. */
    public double prefillMs(long promptTokens) {
        if (promptTokens < 0) throw new IllegalArgumentException("promptTokens must not be negative, got " + promptTokens);
        if (promptTokens == 0) return 0;
        return interpolate(prefillTokens, prefillMs, promptTokens);
    }

    /** Bytes of a bank of {@code slots} adapter slots plus slot 0 (the plain backbone's zeros), allocated whole as the real bank is. */
    public long bankBytes(int slots) {
        return Math.multiplyExact((long) slots + 1, bankSlotBytes);
    }

    /** Piecewise-linear through the points; the first value below the first point, the last segment's slope above the last. */
    static double interpolate(List<Integer> xs, List<Double> ys, double x) {
        int n = xs.size();
        if (x <= xs.getFirst() || n == 1) return x <= xs.getFirst() ? ys.getFirst() : ys.getLast();
        for (int i = 1; i < n; i++) {
            if (x <= xs.get(i)) return segment(xs, ys, i, x);
        }
        return Math.max(0, segment(xs, ys, n - 1, x));
    }

    private static double segment(List<Integer> xs, List<Double> ys, int i, double x) {
        double x0 = xs.get(i - 1), x1 = xs.get(i), y0 = ys.get(i - 1), y1 = ys.get(i);
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
    }
}
