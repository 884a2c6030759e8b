package dev.lorastream.engine.graph;

import java.util.Locale;

/**
 * Element type of the decoder graph's weights, activations, KV cache and LoRA bank. Logits are
 * float32 in both (the fp16 graph casts them), and so are the RMSNorm statistics, the RoPE
 * angles and the softmax of the attention scores.
 */
public enum Precision {
    FP32(OnnxGraphBuilder.FLOAT, 4),
    /** IEEE half: needs an execution provider with fp16 kernels (CUDA). */
    FP16(OnnxGraphBuilder.FLOAT16, 2);

    private final int onnxType;
    private final int bytes;

    Precision(int onnxType, int bytes) {
        this.onnxType = onnxType;
        this.bytes = bytes;
    }

    /** The ONNX TensorProto data type code. */
    public int onnxType() { return onnxType; }

    /** Bytes per element. */
    public int bytes() { return bytes; }

    public static Precision parse(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "fp32", "float32", "float" -> FP32;
            case "fp16", "float16", "half" -> FP16;
            default -> throw new IllegalArgumentException("precision '" + name + "' is not supported (fp32, fp16)");
        };
    }

    /** {@code fp32} or {@code fp16}. */
    public String label() { return name().toLowerCase(Locale.ROOT); }
}
