package dev.lorastream.engine.graph;

import dev.lorastream.engine.model.Projection;

/** Names of the decoder graph's inputs and outputs. */
public final class GraphNames {
    /** int64 [batch, seq]: token ids, rows left-padded. */
    public static final String INPUT_IDS = "input_ids";
    /** int64 [batch, past + seq]: 1 for real tokens, 0 for padding. */
    public static final String ATTENTION_MASK = "attention_mask";
    /** int64 [batch, seq]: rotary positions of the new tokens. */
    public static final String POSITION_IDS = "position_ids";
    /** int64 [batch]: each row's adapter slot in the banks; 0 is the plain backbone. */
    public static final String LORA_SLOT = "lora_slot";
    /** float [batch, vocab]: logits of each row's last position. */
    public static final String LOGITS = "logits";
    /** int64 [batch]: the greedy next token of each row (argmax of its logits, the lowest index among equals). */
    public static final String NEXT_TOKEN = "next_token";

    private GraphNames() {}

    /** float [batch, kv_heads, past, head_dim]. */
    public static String pastKey(int layer) { return "past_key_values." + layer + ".key"; }

    public static String pastValue(int layer) { return "past_key_values." + layer + ".value"; }

    /** float [batch, kv_heads, past + seq, head_dim]. */
    public static String presentKey(int layer) { return "present." + layer + ".key"; }

    public static String presentValue(int layer) { return "present." + layer + ".value"; }

    /** float [slots, layers, in_features, rank]: A' = Aᵀ of every slot and layer. */
    public static String loraA(Projection p) { return "lora." + p.moduleName() + ".A"; }

    /** float [slots, layers, rank, out_features]: B' = scaling · Bᵀ of every slot and layer. */
    public static String loraB(Projection p) { return "lora." + p.moduleName() + ".B"; }
}
