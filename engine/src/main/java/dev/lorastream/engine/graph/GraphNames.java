package dev.lorastream.engine.graph;

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
    /**
     * Fused graph, int32 [batch, seq + 3]: per row its {@code seq} token ids (right-padded), then
     * seqlens_k (the row's tokens in the KV cache after this pass, minus one), its adapter slot,
     * and the index of its last real token in the flattened [batch * seq] positions.
     */
    public static final String STEP = "step";
    /** Fused graph, int32 [1] on the host: the longest row's total length (prefill) or the cache's capacity (decode). */
    public static final String TOTAL_SEQUENCE_LENGTH = "total_sequence_length";
    /** float [batch, vocab] (the fused graph: the activation type): logits of each row's last position. */
    public static final String LOGITS = "logits";
    /** int64 [batch]: the greedy token of each row (argmax of its logits, the lowest index among equals). */
    public static final String NEXT_TOKEN = "next_token";
    /** Sampling head ({@link SamplingHead#graph}), float [batch, 4]: per row temperature (0: greedy), top_p, top_k (0: no cut), u in [0, 1). */
    public static final String SAMPLING = "sampling";
    /** Sampling head, int64 [batch]: the row's sample where its temperature is above 0, else its greedy token. */
    public static final String SAMPLED_TOKEN = "sampled_token";
    /** Sampling head, bool [batch]: the row's sampled token is final (else the host samples from the logits with the same u). */
    public static final String SAMPLED = "sampled";

    private GraphNames() {}

    /** float [batch, kv_heads, past, head_dim]. */
    public static String pastKey(int layer) { return "past_key_values." + layer + ".key"; }

    public static String pastValue(int layer) { return "past_key_values." + layer + ".value"; }

    /** float [batch, kv_heads, past + seq, head_dim]. */
    public static String presentKey(int layer) { return "present." + layer + ".key"; }

    public static String presentValue(int layer) { return "present." + layer + ".value"; }

    /** [slots, in_features, rank]: the group's A' (members' Aᵀ side by side) of one layer, every slot. */
    public static String loraA(int layer, LoraGroup g) { return "lora." + layer + "." + g.key() + ".A"; }

    /** [slots, rank, out_features]: the group's block-diagonal B' (members' scaling · Bᵀ) of one layer, every slot. */
    public static String loraB(int layer, LoraGroup g) { return "lora." + layer + "." + g.key() + ".B"; }
}
