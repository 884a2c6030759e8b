package dev.lorastream.engine.graph;

import dev.lorastream.engine.model.Checkpoint;
import dev.lorastream.engine.model.ModelConfig;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which decoder graph to build for a backbone: the fused one or the plain reference, its
 * precision, the LoRA groups it has inputs for, and (fused) the positions its rotary tables cover.
 * Part of the graph cache's key.
 */
public record GraphSpec(Kind kind, Precision precision, Set<LoraGroup> loraGroups, int ropeLength, GreedyHead greedyHead) {
    public enum Kind {
        /** {@link FusedDecoderGraph}: contrib operators, static KV cache, CUDA-graph ready. */
        FUSED,
        /** {@link DecoderGraph}: standard operators, a KV cache that grows by Concat. */
        REFERENCE;

        public String label() { return name().toLowerCase(Locale.ROOT); }
    }

    public GraphSpec {
        loraGroups = loraGroups.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(loraGroups));
        if (kind == Kind.FUSED && ropeLength < 1) throw new IllegalArgumentException("a fused graph needs the rotary tables' length, got " + ropeLength);
        if (kind == Kind.REFERENCE) ropeLength = 0;
        if (greedyHead == null) greedyHead = GreedyHead.CHUNKED;
    }

    /** The chunked greedy head. */
    public GraphSpec(Kind kind, Precision precision, Set<LoraGroup> loraGroups, int ropeLength) {
        this(kind, precision, loraGroups, ropeLength, GreedyHead.CHUNKED);
    }

    /** The reference graph with LoRA on every group. */
    public static GraphSpec reference(Precision precision) {
        return new GraphSpec(Kind.REFERENCE, precision, EnumSet.allOf(LoraGroup.class), 0);
    }

    /** The graph's builder, initializers read from the checkpoint when written. */
    public OnnxGraphBuilder build(ModelConfig c, Checkpoint ckpt) {
        Set<LoraGroup> groups = loraGroups.isEmpty() ? EnumSet.noneOf(LoraGroup.class) : EnumSet.copyOf(loraGroups);
        return kind == Kind.FUSED ? FusedDecoderGraph.build(c, ckpt, precision, groups, ropeLength, greedyHead) : DecoderGraph.build(c, ckpt, precision, groups);
    }

    /** File-name part: e.g. {@code fused-fp16-qkv.o-rope512-chunked}. */
    public String key() {
        String groups = loraGroups.isEmpty() ? "nolora"
                : EnumSet.copyOf(loraGroups).stream().map(LoraGroup::key).collect(Collectors.joining("."));
        return kind.label() + "-" + precision.label() + "-" + groups + (kind == Kind.FUSED ? "-rope" + ropeLength + "-" + greedyHead.label() : "");
    }
}
