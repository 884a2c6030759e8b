package dev.lorastream.engine.graph;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static dev.lorastream.engine.graph.OnnxGraphBuilder.Attr;

/**
 * How the fused graph picks each row's greedy token from its logits (the lowest index among equal
 * maxima in every case). ONNX Runtime's CUDA kernels differ widely here: {@code ArgMax} over the
 * last axis gives a row to one thread (about 3 ms for a 128k vocabulary on an H200), and the
 * {@code ReduceMax}/{@code ReduceMin} pair goes to cuDNN's reduce, measured at about 10 ms per call
 * for 32 rows of 128k (bench/results/h200-fused-2/ncu-summary.txt).
 */
public enum GreedyHead {
    /**
     * ArgMax in levels over chunks of {@value #CHUNK}: the logits padded to
     * {@code 64^L·R} with the lowest value, the chunks' maxima found by ArgMax (one short row per
     * thread, many rows), then the winners' chunks walked back down with GatherElements.
     */
    CHUNKED,
    /** {@code TopK} with k = 1. */
    TOPK,
    /** One {@code ArgMax} over the vocabulary. */
    ARGMAX;

    /** The chunk width of {@link #CHUNKED}. */
    public static final int CHUNK = 64;

    /** Diagnostics: this system property picks the head (chunked, topk, argmax) for engines opened from now on. */
    public static final String PROPERTY = "lorastream.greedy";

    public static GreedyHead configured() {
        String v = System.getProperty(PROPERTY, "chunked").trim().toUpperCase(Locale.ROOT);
        try {
            return valueOf(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PROPERTY + " '" + v.toLowerCase(Locale.ROOT) + "' is not one of chunked, topk, argmax");
        }
    }

    public String label() { return name().toLowerCase(Locale.ROOT); }

    /**
     * Adds the nodes that write {@code output} (int64 [batch]): each row's greedy token of
     * {@code logits} ([batch, vocab] of ONNX type {@code act}), the lowest index among equal maxima.
     */
    public void build(OnnxGraphBuilder g, String logits, String output, long vocab, int act) {
        switch (this) {
            case ARGMAX -> g.op("ArgMax", output, List.of(logits), Attr.i("axis", -1), Attr.i("keepdims", 0));
            case TOPK -> {
                List<String> top = g.opIn("", "TopK", List.of(logits, g.ints(1)), 2,
                        Attr.i("axis", -1), Attr.i("largest", 1), Attr.i("sorted", 1));
                g.op("Squeeze", output, List.of(top.get(1), g.ints(1)));
            }
            case CHUNKED -> chunked(g, logits, output, vocab, act);
        }
    }

    /**
     * ArgMax in levels: pad the logits to {@code 64^L·R} (R ≤ 64) with the lowest value, reshape to
     * chunks of 64 and take each chunk's ArgMax and maximum, L times, then one ArgMax over the R
     * top maxima, and walk the winning chunks back down to the vocabulary index. Every ArgMax is
     * over 64 contiguous values (or R), one per thread, for many rows at once.
     */
    private static void chunked(OnnxGraphBuilder g, String logits, String output, long v, int act) {
        int levels = 0;
        long span = 1;
        while ((v + span - 1) / span > CHUNK) {
            span *= CHUNK;
            levels++;
        }
        long padded = (v + span - 1) / span * span;
        String x = logits;
        if (padded > v) {
            String lowest = act == OnnxGraphBuilder.FLOAT ? g.scalarFloat(-Float.MAX_VALUE)
                    : g.op("Cast", List.of(g.scalarFloat(-65504f)), Attr.i("to", act));
            x = g.op("Pad", x, g.ints(0, 0, 0, padded - v), lowest);
        }
        List<String> offsets = new ArrayList<>();
        long width = padded;
        for (int l = 0; l < levels; l++) {
            width /= CHUNK;
            String chunks = g.op("Reshape", x, g.ints(0, width, CHUNK));
            String at = g.op("ArgMax", List.of(chunks), Attr.i("axis", 2), Attr.i("keepdims", 1)); // [B, width, 1]
            offsets.add(g.op("Squeeze", at, g.ints(2)));
            x = g.op("Squeeze", g.op("GatherElements", List.of(chunks, at), Attr.i("axis", 2)), g.ints(2)); // [B, width]
        }
        String index = g.op("ArgMax", List.of(x), Attr.i("axis", 1), Attr.i("keepdims", 1)); // [B, 1] among the top maxima
        for (int l = levels - 1; l >= 0; l--) {
            String local = g.op("GatherElements", List.of(offsets.get(l), index), Attr.i("axis", 1));
            index = g.op("Add", g.op("Mul", index, g.ints(CHUNK)), local);
        }
        g.op("Squeeze", output, List.of(g.op("Min", index, g.ints(v - 1)), g.ints(1)));
    }
}
