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
 * @param deviceTensors      "auto" (default: on for cuda and for fp16, off for fp32 on cpu), "on" or "off": keep the LoRA bank and the KV cache
 *                           in memory of the session's allocator across steps (on CUDA: device memory; only logits come
 *                           back per step) rather than in Java buffers fed to every run
 */
public record EngineConfig(Path modelDir, Path adapterDir, String executionProvider, int maxBatchSize,
                           int intraOpThreads, Path cacheDir, int maxLoraRank, int maxNewTokensLimit,
                           boolean tf32, String precision, String deviceTensors) {
    public static final int DEFAULT_MAX_LORA_RANK = 64;
    /** Name of the default graph cache directory inside the model directory. */
    public static final String DEFAULT_CACHE_DIR_NAME = ".lorastream-cache";

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
        precision = pr;
        deviceTensors = dt;
    }

    public EngineConfig(Path modelDir, Path adapterDir, String executionProvider, int maxBatchSize,
                        int intraOpThreads, Path cacheDir, int maxLoraRank, int maxNewTokensLimit) {
        this(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, maxNewTokensLimit, false, "fp32", "auto");
    }

    public EngineConfig(Path modelDir, Path adapterDir, String executionProvider, int maxBatchSize) {
        this(modelDir, adapterDir, executionProvider, maxBatchSize, 0, null, DEFAULT_MAX_LORA_RANK, 0);
    }

    public EngineConfig withIntraOpThreads(int threads) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, threads, cacheDir, maxLoraRank, maxNewTokensLimit, tf32, precision, deviceTensors);
    }

    public EngineConfig withCacheDir(Path dir) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, dir, maxLoraRank, maxNewTokensLimit, tf32, precision, deviceTensors);
    }

    public EngineConfig withMaxLoraRank(int rank) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, rank, maxNewTokensLimit, tf32, precision, deviceTensors);
    }

    public EngineConfig withMaxNewTokensLimit(int limit) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, limit, tf32, precision, deviceTensors);
    }

    /** TF32 matmuls on CUDA (see {@link #tf32}). */
    public EngineConfig withTf32(boolean on) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, maxNewTokensLimit, on, precision, deviceTensors);
    }

    /** "fp32" or "fp16" (see {@link #precision}). */
    public EngineConfig withPrecision(String p) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, maxNewTokensLimit, tf32, p, deviceTensors);
    }

    /** "auto", "on" or "off" (see {@link #deviceTensors}). */
    public EngineConfig withDeviceTensors(String mode) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, maxNewTokensLimit, tf32, precision, mode);
    }

    /** Whether the bank and the KV cache live in the session allocator's memory: "on", or "auto" on cuda or in fp16. */
    public boolean effectiveDeviceTensors() {
        return deviceTensors.equals("on")
                || (deviceTensors.equals("auto") && (executionProvider.trim().equalsIgnoreCase("cuda") || precision.equals("fp16")));
    }

    public int effectiveIntraOpThreads() {
        return intraOpThreads > 0 ? intraOpThreads : Math.min(2, Runtime.getRuntime().availableProcessors());
    }

    public Path effectiveCacheDir() {
        return cacheDir != null ? cacheDir : modelDir.resolve(DEFAULT_CACHE_DIR_NAME);
    }
}
