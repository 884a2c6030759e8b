package dev.lorastream.engine.graph;

import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;

import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The fixed shape of the LoRA bank, decided once when the engine opens (before any CUDA graph is
 * captured): the rank reserved for every projection that has LoRA (projections without an entry
 * have none: the graph holds no LoRA nodes for a group none of whose members is targeted) and the
 * number of slots, slot 0 being the plain backbone. Per layer and group the bank holds
 * {@code A' [slots, in, R]} and {@code B' [slots, R, out]}, R the group's members' ranks summed.
 */
public record BankLayout(Map<Projection, Integer> ranks, int slots, Precision precision) {
    public BankLayout {
        ranks = Collections.unmodifiableMap(ranks.isEmpty() ? new EnumMap<>(Projection.class) : new EnumMap<>(ranks));
        for (Map.Entry<Projection, Integer> e : ranks.entrySet()) {
            if (e.getValue() < 1) throw new IllegalArgumentException("bank rank of " + e.getKey().moduleName() + " must be at least 1, got " + e.getValue());
        }
        if (slots < 1) throw new IllegalArgumentException("a bank has at least slot 0, got " + slots + " slots");
    }

    /** Groups with at least one targeted member, in order. */
    public Set<LoraGroup> groups() {
        Set<LoraGroup> g = EnumSet.noneOf(LoraGroup.class);
        for (Projection p : ranks.keySet()) g.add(LoraGroup.of(p));
        return g;
    }

    public boolean covers(Projection p) { return ranks.containsKey(p); }

    /** The rank reserved for a projection, 0 when it has no LoRA. */
    public int rank(Projection p) { return ranks.getOrDefault(p, 0); }

    /** The group's rank: its members' ranks summed. */
    public int rank(LoraGroup g) {
        int r = 0;
        for (Projection p : g.members()) r += rank(p);
        return r;
    }

    /** Where a member's rank columns start within its group's rank. */
    public int rankOffset(Projection p) {
        int r = 0;
        for (Projection m : LoraGroup.of(p).members()) {
            if (m == p) return r;
            r += rank(m);
        }
        throw new IllegalStateException();
    }

    /** Elements of one slot's A' of one layer and group. */
    public long elementsA(ModelConfig c, LoraGroup g) { return (long) g.inFeatures(c) * rank(g); }

    /** Elements of one slot's B' of one layer and group. */
    public long elementsB(ModelConfig c, LoraGroup g) { return (long) rank(g) * g.outFeatures(c); }

    /** Bytes of one slot (every layer and group). */
    public long slotBytes(ModelConfig c) {
        long n = 0;
        for (LoraGroup g : groups()) n += elementsA(c, g) + elementsB(c, g);
        return n * c.numHiddenLayers() * precision.bytes();
    }

    /** Bytes of the whole bank. */
    public long bytes(ModelConfig c) { return slotBytes(c) * slots; }

    /** E.g. {@code q_proj=16 k_proj=16 v_proj=16 o_proj=16}, or {@code none}. */
    public String describeRanks() {
        if (ranks.isEmpty()) return "none";
        return ranks.entrySet().stream().map(e -> e.getKey().moduleName() + "=" + e.getValue()).collect(Collectors.joining(" "));
    }
}
