package dev.lorastream.engine;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Settings of the worker's inference engine ({@code dev.lorastream.engine.onnx.OnnxLoraEngine}).
 *
 * @param modelDir           Hugging Face style backbone directory (config.json, *.safetensors)
 * @param adapterDir         one PEFT subdirectory per adapter id; null for none
 * @param executionProvider  "cpu" or "cuda"
 * @param maxBatchSize       rows per forward pass; larger batches run in several passes
 * @param intraOpThreads     ONNX Runtime intra-op threads; 0 picks min(2, cores)
 * @param cacheDir           where built graphs are cached; null for {@code <modelDir>/.lorastream-cache}
 * @param maxLoraRank        adapters with a larger rank are refused
 * @param maxNewTokensLimit  largest max_new_tokens accepted; 0 means the model's max sequence length
 * @param tf32               CUDA only: let float32 matmuls use TF32 tensor cores (faster, about 1e-3 relative error,
 *                           so greedy tokens may differ from the CPU's); off by default
 * @param precision          "fp32" (default) or "fp16": the decoder graph's weights, activations, KV cache and LoRA bank
 *                           (fp16 keeps them in the session allocator's memory: deviceTensors must not be "off")
 * @param deviceTensors      "auto" (default: on for cuda, for fp16 and for the fused graph, off for the fp32 reference graph on cpu),
 *                           "on" or "off": keep the LoRA bank and the KV cache in memory of the session's allocator across steps
 *                           (on CUDA: device memory; only tokens, or logits, come back per step) rather than in Java buffers fed to every run
 * @param graph              "auto" (default: the fused graph where the model, provider and precision allow it, else the reference),
 *                           "fused" (refused with the reason where it cannot run) or "reference" (the plain graph)
 * @param kvCapacity         tokens per row of the fused graph's static KV cache (prompt and generated); 0: the model's maximum
 *                           sequence length, at most {@value #DEFAULT_KV_CAPACITY}
 * @param cudaGraphs         CUDA with the fused graph: capture each decode batch bucket as a CUDA graph when the engine opens and
 *                           replay it (default on)
 * @param bankRank           the LoRA rank the bank reserves for every projection it covers; 0: the largest rank the store's
 *                           adapters use for that projection at start-up
 * @param bankTargets        projections (module names) the bank covers besides those the store's adapters target at start-up;
 *                           the bank's shape is fixed once the engine opens, so an adapter added later is refused if it needs more
 */
public record EngineConfig(Path modelDir, Path adapterDir, String executionProvider, int maxBatchSize,
                           int intraOpThreads, Path cacheDir, int maxLoraRank, int maxNewTokensLimit,
                           boolean tf32, String precision, String deviceTensors, String graph, int kvCapacity, boolean cudaGraphs,
                           int bankRank, java.util.List<String> bankTargets) {
    public static final int DEFAULT_MAX_LORA_RANK = 64;
    /** Name of the default graph cache directory inside the model directory. */
    public static final String DEFAULT_CACHE_DIR_NAME = ".lorastream-cache";
    /** The static KV cache's default capacity ceiling, in tokens per row. */
    public static final int DEFAULT_KV_CAPACITY = 4096;

    public EngineConfig {
        Objects.requireNonNull(modelDir, "modelDir");
        Objects.requireNonNull(executionProvider, "executionProvider");
        String ep = executionProvider.trim().toLowerCase(Locale.ROOT);
        if (!ep.equals("cpu") && !ep.equals("cuda")) throw new IllegalArgumentException("executionProvider '" + executionProvider + "' is not supported (cpu, cuda)");
        if (maxBatchSize < 1) throw new IllegalArgumentException("maxBatchSize must be at least 1, got " + maxBatchSize);
        if (intraOpThreads < 0) throw new IllegalArgumentException("intraOpThreads must be 0 (auto) or positive, got " + intraOpThreads);
        if (maxLoraRank < 1) throw new IllegalArgumentException("maxLoraRank must be at least 1, got " + maxLoraRank);
        if (maxNewTokensLimit < 0) throw new IllegalArgumentException("maxNewTokensLimit must be 0 (model limit) or positive, got " + maxNewTokensLimit);
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(deviceTensors, "deviceTensors");
        String pr = precision.trim().toLowerCase(Locale.ROOT);
        if (!pr.equals("fp32") && !pr.equals("fp16")) throw new IllegalArgumentException("precision '" + precision + "' is not supported (fp32, fp16)");
        String dt = deviceTensors.trim().toLowerCase(Locale.ROOT);
        if (!dt.equals("auto") && !dt.equals("on") && !dt.equals("off")) throw new IllegalArgumentException("deviceTensors '" + deviceTensors + "' is not supported (auto, on, off)");
        if (pr.equals("fp16") && dt.equals("off")) throw new IllegalArgumentException("precision fp16 keeps its KV cache and LoRA bank in device memory; deviceTensors off is float32 only");
        Objects.requireNonNull(graph, "graph");
        String gr = graph.trim().toLowerCase(Locale.ROOT);
        if (!gr.equals("auto") && !gr.equals("fused") && !gr.equals("reference")) throw new IllegalArgumentException("graph '" + graph + "' is not supported (auto, fused, reference)");
        if (kvCapacity < 0) throw new IllegalArgumentException("kvCapacity must be 0 (default) or positive, got " + kvCapacity);
        if (bankRank < 0) throw new IllegalArgumentException("bankRank must be 0 (from the adapters found) or positive, got " + bankRank);
        if (bankRank > maxLoraRank) throw new IllegalArgumentException("bankRank " + bankRank + " exceeds maxLoraRank " + maxLoraRank);
        bankTargets = java.util.List.copyOf(bankTargets);
        for (String t : bankTargets) {
            if (dev.lorastream.engine.model.Projection.byModuleName(t).isEmpty()) {
                throw new IllegalArgumentException("bankTargets: '" + t + "' is not a projection (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)");
            }
        }
        precision = pr;
        deviceTensors = dt;
        graph = gr;
    }

    public EngineConfig(Path modelDir, Path adapterDir, String executionProvider, int maxBatchSize,
                        int intraOpThreads, Path cacheDir, int maxLoraRank, int maxNewTokensLimit,
                        boolean tf32, String precision, String deviceTensors) {
        this(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, maxNewTokensLimit, tf32, precision, deviceTensors,
                "auto", 0, true, 0, java.util.List.of());
    }

    public EngineConfig(Path modelDir, Path adapterDir, String executionProvider, int maxBatchSize,
                        int intraOpThreads, Path cacheDir, int maxLoraRank, int maxNewTokensLimit) {
        this(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, maxNewTokensLimit, false, "fp32", "auto");
    }

    public EngineConfig(Path modelDir, Path adapterDir, String executionProvider, int maxBatchSize) {
        this(modelDir, adapterDir, executionProvider, maxBatchSize, 0, null, DEFAULT_MAX_LORA_RANK, 0);
    }

    public EngineConfig withIntraOpThreads(int threads) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, threads, cacheDir, maxLoraRank, maxNewTokensLimit, tf32, precision, deviceTensors, graph, kvCapacity, cudaGraphs, bankRank, bankTargets);
    }

    public EngineConfig withCacheDir(Path dir) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, dir, maxLoraRank, maxNewTokensLimit, tf32, precision, deviceTensors, graph, kvCapacity, cudaGraphs, bankRank, bankTargets);
    }

    public EngineConfig withMaxLoraRank(int rank) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, rank, maxNewTokensLimit, tf32, precision, deviceTensors, graph, kvCapacity, cudaGraphs, bankRank, bankTargets);
    }

    public EngineConfig withMaxNewTokensLimit(int limit) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, limit, tf32, precision, deviceTensors, graph, kvCapacity, cudaGraphs, bankRank, bankTargets);
    }

    /** TF32 matmuls on CUDA (see {@link #tf32}). */
    public EngineConfig withTf32(boolean on) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, maxNewTokensLimit, on, precision, deviceTensors, graph, kvCapacity, cudaGraphs, bankRank, bankTargets);
    }

    /** "fp32" or "fp16" (see {@link #precision}). */
    public EngineConfig withPrecision(String p) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, maxNewTokensLimit, tf32, p, deviceTensors, graph, kvCapacity, cudaGraphs, bankRank, bankTargets);
    }

    /** "auto", "on" or "off" (see {@link #deviceTensors}). */
    public EngineConfig withDeviceTensors(String mode) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, maxNewTokensLimit, tf32, precision, mode, graph, kvCapacity, cudaGraphs, bankRank, bankTargets);
    }

    /** "auto", "fused" or "reference" (see {@link #graph}). */
    public EngineConfig withGraph(String g) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, maxNewTokensLimit, tf32, precision, deviceTensors,
                g, kvCapacity, cudaGraphs, bankRank, bankTargets);
    }

    /** Tokens per row of the static KV cache (see {@link #kvCapacity}). */
    public EngineConfig withKvCapacity(int tokens) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, maxNewTokensLimit, tf32, precision, deviceTensors,
                graph, tokens, cudaGraphs, bankRank, bankTargets);
    }

    /** CUDA graphs for the fused graph's decode (see {@link #cudaGraphs}). */
    public EngineConfig withCudaGraphs(boolean on) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, maxNewTokensLimit, tf32, precision, deviceTensors,
                graph, kvCapacity, on, bankRank, bankTargets);
    }

    /** The bank's reserved rank and extra targets (see {@link #bankRank}, {@link #bankTargets}). */
    public EngineConfig withBank(int rank, java.util.List<String> targets) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, maxNewTokensLimit, tf32, precision, deviceTensors,
                graph, kvCapacity, cudaGraphs, rank, targets);
    }

    /** Whether the bank and the KV cache live in the session allocator's memory: "on", or "auto" on cuda, in fp16 or with the fused graph. */
    public boolean effectiveDeviceTensors(boolean fused) {
        return deviceTensors.equals("on")
                || (deviceTensors.equals("auto") && (fused || executionProvider.trim().equalsIgnoreCase("cuda") || precision.equals("fp16")));
    }

    public int effectiveIntraOpThreads() {
        return intraOpThreads > 0 ? intraOpThreads : Math.min(2, Runtime.getRuntime().availableProcessors());
    }

    public Path effectiveCacheDir() {
        return cacheDir != null ? cacheDir : modelDir.resolve(DEFAULT_CACHE_DIR_NAME);
    }
}
