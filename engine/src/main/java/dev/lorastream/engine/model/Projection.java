package dev.lorastream.engine.model;

import java.util.Arrays;
import java.util.Optional;

/** The seven linear projections of a Llama-family decoder layer; LoRA targets are a subset of them. */
public enum Projection {
    Q_PROJ("q_proj", "self_attn"),
    K_PROJ("k_proj", "self_attn"),
    V_PROJ("v_proj", "self_attn"),
    O_PROJ("o_proj", "self_attn"),
    GATE_PROJ("gate_proj", "mlp"),
    UP_PROJ("up_proj", "mlp"),
    DOWN_PROJ("down_proj", "mlp");

    private final String moduleName;
    private final String block;

    Projection(String moduleName, String block) {
        this.moduleName = moduleName;
        this.block = block;
    }

    /** The Hugging Face module name, e.g. {@code q_proj}. */
    public String moduleName() { return moduleName; }

    /** {@code self_attn} or {@code mlp}. */
    public String block() { return block; }

    /** Module path inside the model, e.g. {@code model.layers.3.self_attn.q_proj}. */
    public String modulePath(int layer) { return "model.layers." + layer + "." + block + "." + moduleName; }

    public int inFeatures(ModelConfig c) {
        return switch (this) {
            case Q_PROJ, K_PROJ, V_PROJ, GATE_PROJ, UP_PROJ -> c.hiddenSize();
            case O_PROJ -> c.numAttentionHeads() * c.headDim();
            case DOWN_PROJ -> c.intermediateSize();
        };
    }

    public int outFeatures(ModelConfig c) {
        return switch (this) {
            case Q_PROJ -> c.numAttentionHeads() * c.headDim();
            case K_PROJ, V_PROJ -> c.numKeyValueHeads() * c.headDim();
            case O_PROJ, DOWN_PROJ -> c.hiddenSize();
            case GATE_PROJ, UP_PROJ -> c.intermediateSize();
        };
    }

    public static Optional<Projection> byModuleName(String name) {
        return Arrays.stream(values()).filter(p -> p.moduleName.equals(name)).findFirst();
    }
}
