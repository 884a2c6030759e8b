package dev.lorastream.engine.sim;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * Settings of a {@link SimulatedEngine}.
 *
 * @param baseModel         the backbone's name as {@link dev.lorastream.engine.ModelInfo#baseModel()} reports it; must start
 *                          with {@value #LABEL_PREFIX} so that every output says it is simulated
 * @param adapterIds        the store's adapters ({@link #numbered} makes "z0000".."z0999"); the first {@code hostSlots} of
 *                          them are in host memory when the engine opens, as the real engine fills its host tier at start-up
 * @param maxRows           rows one forward pass holds (the max batch)
 * @param deviceSlots       adapter slots of the device bank (slot 0, the plain backbone, not counted)
 * @param hostSlots         adapters the host tier holds, at least {@code deviceSlots} (as the real cache requires)
 * @param storeLoaders      store loads in flight at once (the real engine's loader pool: min(2, cores))
 * @param vocabSize         token ids are in [0, vocabSize); at least {@value SimTokenizer#MIN_VOCAB} for the byte tokenizer
 * @param maxSequenceLength prompt plus new tokens may not exceed this (the KV cache's tokens per row)
 * @param maxNewTokensLimit largest max_new_tokens accepted; 0: {@code maxSequenceLength}
 * @param timeScale         factor (at least 1) multiplying every simulated duration on the wall clock, so that a fleet of
 *                          simulated engines can run slower than real time on a small machine; reported times stay simulated
 * @param seed              seed of the generated tokens (with the request id and the step)
 * @param cost              what passes, loads and memory cost
 */
public record SimConfig(String baseModel, List<String> adapterIds, int maxRows, int deviceSlots, int hostSlots, int storeLoaders,
                        int vocabSize, int maxSequenceLength, int maxNewTokensLimit, double timeScale, long seed, CostModel cost) {
    /** Every simulated backbone's name starts with this. */
    public static final String LABEL_PREFIX = "sim:";
    public static final String DEFAULT_BASE_MODEL = "sim:llama-3.2-1b-h200";
    /** Llama-3.2-1B's vocabulary (docs/benchmarks/gpu.md, "Device and model"). */
    public static final int DEFAULT_VOCAB = 128_256;
    /** The fused engine's default KV capacity per row (EngineConfig.DEFAULT_KV_CAPACITY; Llama-3.2-1B allows more). */
    public static final int DEFAULT_MAX_SEQUENCE_LENGTH = 4096;
    /** The worker's default max batch (docs/benchmarks/gpu.md, issue 4 section 5). */
    public static final int DEFAULT_MAX_ROWS = 32;
    /** The benchmark's device bank (gpu.md, issue 4: --slots 48). */
    public static final int DEFAULT_DEVICE_SLOTS = 48;
    /** 4 x the device tier, the real cache's default ratio (CacheConfig.DEFAULT_HOST_FACTOR). */
    public static final int DEFAULT_HOST_SLOTS = 4 * DEFAULT_DEVICE_SLOTS;
    public static final int DEFAULT_STORE_LOADERS = 2;

    public SimConfig {
        Objects.requireNonNull(baseModel, "baseModel");
        if (!baseModel.startsWith(LABEL_PREFIX)) throw new IllegalArgumentException("baseModel must start with '" + LABEL_PREFIX + "' (it is simulated), got '" + baseModel + "'");
        adapterIds = List.copyOf(adapterIds);
        if (new LinkedHashSet<>(adapterIds).size() != adapterIds.size()) throw new IllegalArgumentException("adapterIds has duplicates");
        for (String id : adapterIds) {
            if (id.isBlank()) throw new IllegalArgumentException("adapterIds has a blank id");
        }
        if (maxRows < 1) throw new IllegalArgumentException("maxRows must be at least 1, got " + maxRows);
        if (deviceSlots < 1) throw new IllegalArgumentException("deviceSlots must be at least 1, got " + deviceSlots);
        if (hostSlots < deviceSlots) throw new IllegalArgumentException("hostSlots (" + hostSlots + ") must be at least deviceSlots (" + deviceSlots + ")");
        if (storeLoaders < 1) throw new IllegalArgumentException("storeLoaders must be at least 1, got " + storeLoaders);
        if (vocabSize < SimTokenizer.MIN_VOCAB) throw new IllegalArgumentException("vocabSize must be at least " + SimTokenizer.MIN_VOCAB + " (the byte tokenizer's ids), got " + vocabSize);
        if (maxSequenceLength < 2) throw new IllegalArgumentException("maxSequenceLength must be at least 2, got " + maxSequenceLength);
        if (maxNewTokensLimit < 0) throw new IllegalArgumentException("maxNewTokensLimit must be 0 (maxSequenceLength) or positive, got " + maxNewTokensLimit);
        if (!(timeScale >= 1) || Double.isInfinite(timeScale)) throw new IllegalArgumentException("timeScale must be a finite number of at least 1, got " + timeScale);
        Objects.requireNonNull(cost, "cost");
    }

    /** {@code count} ids from a format with one integer, e.g. {@code numbered(1000, "z%04d")}: z0000..z0999. */
    public static List<String> numbered(int count, String format) {
        if (count < 0) throw new IllegalArgumentException("count must not be negative, got " + count);
        List<String> ids = new ArrayList<>(count);
        for (int i = 0; i < count; i++) ids.add(String.format(java.util.Locale.ROOT, format, i));
        return ids;
    }

    /** The defaults above, the H200 cost model, real time, seed 0, over these adapters. */
    public static SimConfig h200(List<String> adapterIds) {
        return new SimConfig(DEFAULT_BASE_MODEL, adapterIds, DEFAULT_MAX_ROWS, DEFAULT_DEVICE_SLOTS, DEFAULT_HOST_SLOTS, DEFAULT_STORE_LOADERS,
                DEFAULT_VOCAB, DEFAULT_MAX_SEQUENCE_LENGTH, 0, 1.0, 0L, CostModel.h200());
    }

    /** {@link #h200(List)} over {@code count} ids of {@code format}. */
    public static SimConfig h200(int count, String format) {
        return h200(numbered(count, format));
    }

    /** max_new_tokens accepted at most. */
    public int effectiveMaxNewTokensLimit() {
        return maxNewTokensLimit > 0 ? maxNewTokensLimit : maxSequenceLength;
    }

    public SimConfig withBaseModel(String name) {
        return new SimConfig(name, adapterIds, maxRows, deviceSlots, hostSlots, storeLoaders, vocabSize, maxSequenceLength, maxNewTokensLimit, timeScale, seed, cost);
    }

    public SimConfig withAdapterIds(List<String> ids) {
        return new SimConfig(baseModel, ids, maxRows, deviceSlots, hostSlots, storeLoaders, vocabSize, maxSequenceLength, maxNewTokensLimit, timeScale, seed, cost);
    }

    public SimConfig withMaxRows(int rows) {
        return new SimConfig(baseModel, adapterIds, rows, deviceSlots, hostSlots, storeLoaders, vocabSize, maxSequenceLength, maxNewTokensLimit, timeScale, seed, cost);
    }

    /** Device bank slots and host tier adapters. */
    public SimConfig withTiers(int device, int host) {
        return new SimConfig(baseModel, adapterIds, maxRows, device, host, storeLoaders, vocabSize, maxSequenceLength, maxNewTokensLimit, timeScale, seed, cost);
    }

    public SimConfig withStoreLoaders(int loaders) {
        return new SimConfig(baseModel, adapterIds, maxRows, deviceSlots, hostSlots, loaders, vocabSize, maxSequenceLength, maxNewTokensLimit, timeScale, seed, cost);
    }

    public SimConfig withVocabSize(int vocab) {
        return new SimConfig(baseModel, adapterIds, maxRows, deviceSlots, hostSlots, storeLoaders, vocab, maxSequenceLength, maxNewTokensLimit, timeScale, seed, cost);
    }

    public SimConfig withMaxSequenceLength(int length) {
        return new SimConfig(baseModel, adapterIds, maxRows, deviceSlots, hostSlots, storeLoaders, vocabSize, length, maxNewTokensLimit, timeScale, seed, cost);
    }

    public SimConfig withMaxNewTokensLimit(int limit) {
        return new SimConfig(baseModel, adapterIds, maxRows, deviceSlots, hostSlots, storeLoaders, vocabSize, maxSequenceLength, limit, timeScale, seed, cost);
    }

    public SimConfig withTimeScale(double scale) {
        return new SimConfig(baseModel, adapterIds, maxRows, deviceSlots, hostSlots, storeLoaders, vocabSize, maxSequenceLength, maxNewTokensLimit, scale, seed, cost);
    }

    public SimConfig withSeed(long s) {
        return new SimConfig(baseModel, adapterIds, maxRows, deviceSlots, hostSlots, storeLoaders, vocabSize, maxSequenceLength, maxNewTokensLimit, timeScale, s, cost);
    }

    public SimConfig withCost(CostModel model) {
        return new SimConfig(baseModel, adapterIds, maxRows, deviceSlots, hostSlots, storeLoaders, vocabSize, maxSequenceLength, maxNewTokensLimit, timeScale, seed, model);
    }
}
