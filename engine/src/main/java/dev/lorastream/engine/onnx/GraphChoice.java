package dev.lorastream.engine.onnx;

import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.graph.FusedDecoderGraph;
import dev.lorastream.engine.graph.Precision;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.runtime.ExecutionProvider;

/**
 * Which decoder graph an engine runs, decided once at open and said in the start-up log: the
 * fused graph wherever it can run (CUDA in fp16, the CPU in fp32, a head size GroupQueryAttention
 * takes, device tensors allowed), else the reference graph, with the reason.
 *
 * @param fused      the fused graph (else the reference)
 * @param cudaGraphs decode steps captured and replayed as CUDA graphs
 * @param capacity   tokens one row holds (prompt and generated): the fused graph's static cache, or the model's limit
 * @param reason     one line: what was chosen and why
 */
public record GraphChoice(boolean fused, boolean cudaGraphs, int capacity, String reason) {

    static GraphChoice of(EngineConfig config, ModelConfig model, ExecutionProvider provider, Precision precision) {
        String why = whyNotFused(config, model, provider, precision);
        if (config.graph().equals("fused") && why != null) {
            throw new IllegalArgumentException("graph 'fused' cannot run here: " + why + "; use graph 'auto' or 'reference'");
        }
        if (config.graph().equals("reference") || why != null) {
            String because = config.graph().equals("reference") ? "asked for" : why;
            return new GraphChoice(false, false, model.maxSequenceLength(), "reference graph (standard operators, KV cache grown by Concat): " + because);
        }
        int capacity = config.kvCapacity() > 0 ? config.kvCapacity() : Math.min(model.maxSequenceLength(), EngineConfig.DEFAULT_KV_CAPACITY);
        if (capacity > model.maxSequenceLength()) {
            throw new IllegalArgumentException("kvCapacity " + capacity + " exceeds the model's maximum sequence length " + model.maxSequenceLength());
        }
        boolean graphs = provider == ExecutionProvider.CUDA && config.cudaGraphs();
        return new GraphChoice(true, graphs, capacity, "fused graph (GroupQueryAttention, SkipSimplifiedLayerNormalization, packed QKV and gate|up, "
                + "static KV cache of " + capacity + " tokens per row" + (graphs ? ", decode as CUDA graphs" : "") + ") on "
                + provider.name().toLowerCase(java.util.Locale.ROOT) + " in " + precision.label());
    }

    /** The same choice without CUDA graphs, saying why. */
    GraphChoice withoutCudaGraphs(String why) {
        return new GraphChoice(fused, false, capacity, reason.replace(", decode as CUDA graphs", "") + " (CUDA graphs refused: " + why + ")");
    }

    /** Why the fused graph cannot run with these settings, or null when it can. */
    static String whyNotFused(EngineConfig config, ModelConfig model, ExecutionProvider provider, Precision precision) {
        String model_ = FusedDecoderGraph.unsupportedReason(model);
        if (model_ != null) return model_;
        if (provider == ExecutionProvider.CUDA && precision == Precision.FP32) {
            return "GroupQueryAttention has no float32 CUDA kernel (use precision fp16)";
        }
        if (provider == ExecutionProvider.CPU && precision == Precision.FP16) {
            return "the CPU's QuickGelu has no float16 kernel (use precision fp32 on the CPU)";
        }
        if (config.deviceTensors().equals("off")) return "device tensors are off, and the fused graph's static KV cache lives in the session's memory";
        return null;
    }
}
