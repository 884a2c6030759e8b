package dev.lorastream.worker.engine;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Settings of the worker's inference engine ({@code dev.lorastream.worker.engine.onnx.OnnxLoraEngine}).
 *
 * @param modelDir           Hugging Face style backbone directory (config.json, *.safetensors)
 * @param adapterDir         one PEFT subdirectory per adapter id; null for none
 * @param executionProvider  "cpu" or "cuda"
 * @param maxBatchSize       rows per forward pass; larger batches run in several passes
 * @param intraOpThreads     ONNX Runtime intra-op threads; 0 picks min(2, cores)
 * @param cacheDir           where built graphs are cached; null for {@code <modelDir>/.lorastream-cache}
 * @param maxLoraRank        adapters with a larger rank are refused
 * @param maxNewTokensLimit  largest max_new_tokens accepted; 0 means the model's max sequence length
 */
public record EngineConfig(Path modelDir, Path adapterDir, String executionProvider, int maxBatchSize,
                           int intraOpThreads, Path cacheDir, int maxLoraRank, int maxNewTokensLimit) {
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
    }

    public EngineConfig(Path modelDir, Path adapterDir, String executionProvider, int maxBatchSize) {
        this(modelDir, adapterDir, executionProvider, maxBatchSize, 0, null, DEFAULT_MAX_LORA_RANK, 0);
    }

    public EngineConfig withIntraOpThreads(int threads) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, threads, cacheDir, maxLoraRank, maxNewTokensLimit);
    }

    public EngineConfig withCacheDir(Path dir) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, dir, maxLoraRank, maxNewTokensLimit);
    }

    public EngineConfig withMaxLoraRank(int rank) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, rank, maxNewTokensLimit);
    }

    public EngineConfig withMaxNewTokensLimit(int limit) {
        return new EngineConfig(modelDir, adapterDir, executionProvider, maxBatchSize, intraOpThreads, cacheDir, maxLoraRank, limit);
    }

    public int effectiveIntraOpThreads() {
        return intraOpThreads > 0 ? intraOpThreads : Math.min(2, Runtime.getRuntime().availableProcessors());
    }

    public Path effectiveCacheDir() {
        return cacheDir != null ? cacheDir : modelDir.resolve(DEFAULT_CACHE_DIR_NAME);
    }
}
