package dev.lorastream.engine.graph;

import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;

import java.util.List;

/**
 * Projections that read the same input and whose LoRA is applied together: one bank read and two
 * matmuls for the whole group. A group's A' is its members' A' side by side ({@code [in, Σ r]});
 * its B' is block-diagonal ({@code [Σ r, Σ out]}, zeros off the blocks), so {@code (x·A')·B'} is
 * every member's delta, concatenated in member order (for QKV: the packed q|k|v layout of the
 * attention input).
 */
public enum LoraGroup {
    QKV("qkv", Projection.Q_PROJ, Projection.K_PROJ, Projection.V_PROJ),
    O("o", Projection.O_PROJ),
    GATE_UP("gate_up", Projection.GATE_PROJ, Projection.UP_PROJ),
    DOWN("down", Projection.DOWN_PROJ);

    private final String key;
    private final List<Projection> members;

    LoraGroup(String key, Projection... members) {
        this.key = key;
        this.members = List.of(members);
    }

    /** Short name used in graph input names, e.g. {@code qkv}. */
    public String key() { return key; }

    public List<Projection> members() { return members; }

    /** The group a projection belongs to. */
    public static LoraGroup of(Projection p) {
        for (LoraGroup g : values()) if (g.members.contains(p)) return g;
        throw new IllegalArgumentException(p.toString());
    }

    /** Features every member reads. */
    public int inFeatures(ModelConfig c) { return members.getFirst().inFeatures(c); }

    /** The members' outputs side by side. */
    public int outFeatures(ModelConfig c) {
        int n = 0;
        for (Projection p : members) n += p.outFeatures(c);
        return n;
    }

    /**
     * Declares the bank's per-layer graph inputs for {@code groups}: {@code lora.<layer>.<group>.A}
     * [slots, in, rank] and {@code .B} [slots, rank, out] in the activation type {@code act}.
     */
    static void declareBankInputs(OnnxGraphBuilder g, ModelConfig c, java.util.Set<LoraGroup> groups, int act) {
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            for (LoraGroup lg : groups) {
                String rank = "rank_" + lg.key();
                g.input(GraphNames.loraA(l, lg), act, "slots", lg.inFeatures(c), rank);
                g.input(GraphNames.loraB(l, lg), act, "slots", rank, lg.outFeatures(c));
            }
        }
    }

    /** Where a member's output starts in the group's output. */
    public int outOffset(ModelConfig c, Projection p) {
        int n = 0;
        for (Projection m : members) {
            if (m == p) return n;
            n += m.outFeatures(c);
        }
        throw new IllegalArgumentException(p + " is not in " + this);
    }
}
