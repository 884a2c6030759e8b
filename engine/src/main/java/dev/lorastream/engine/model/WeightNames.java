package dev.lorastream.engine.model;

/** Hugging Face tensor names of a Llama-family checkpoint. */
public final class WeightNames {
    public static final String EMBED_TOKENS = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";

    private WeightNames() {}

    public static String weight(int layer, Projection p) { return p.modulePath(layer) + ".weight"; }

    public static String bias(int layer, Projection p) { return p.modulePath(layer) + ".bias"; }

    public static String inputNorm(int layer) { return "model.layers." + layer + ".input_layernorm.weight"; }

    public static String postAttentionNorm(int layer) { return "model.layers." + layer + ".post_attention_layernorm.weight"; }
}
