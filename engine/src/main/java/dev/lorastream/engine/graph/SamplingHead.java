package dev.lorastream.engine.graph;

import java.util.List;

import static dev.lorastream.engine.graph.OnnxGraphBuilder.Attr;
import static dev.lorastream.engine.graph.OnnxGraphBuilder.FLOAT;
import static dev.lorastream.engine.graph.OnnxGraphBuilder.INT64;

/**
 * Temperature, top-k and top-p sampling on the device, so that a sampling row needs no logits on
 * the host: a graph of its own ({@link #graph}) that a decode step with sampling rows runs on the
 * logits the fused decoder left in device memory (a greedy step skips it and its TopK). Per row it reads {@link GraphNames#SAMPLING} (temperature, top_p, top_k, u) and
 * samples by the inverse of the distribution's CDF in the host's order (logits descending, the
 * lower index first among equals), as {@code scheduler.Sampler} does with the same {@code u}:
 *
 * <ol>
 *   <li>the {@code candidates} largest logits of the row ({@code TopK}), and p = exp((logit − max) / T)
 *       for them and (one pass over the vocabulary, summed by a matrix product) for every token;</li>
 *   <li>top-k keeps the first k candidates (k = 0: all), normalised by their mass, or by the whole
 *       vocabulary's when there is no cut; top-p keeps a candidate while the mass before it is below
 *       top_p;</li>
 *   <li>the sampled candidate is the first whose cumulative kept mass exceeds u times the kept mass
 *       (u times 1 without top-p), the last kept one if rounding leaves none.</li>
 * </ol>
 *
 * <p>That is the host's answer whenever what it keeps lies among the candidates: always for top_k in
 * 1..candidates, for top_p < 1 when the candidates' mass reaches top_p, and without any cut when u
 * falls within the candidates' mass. {@link GraphNames#SAMPLED} says so per row (greedy rows, T = 0,
 * are always final); for the other rows the host samples from the logits with the same u. The sums
 * are float32, the host's double: a u within about 1e-6 of a boundary between two tokens may pick
 * the neighbour.
 */
public final class SamplingHead {
    /** The candidates of the default graph. */
    public static final int DEFAULT_CANDIDATES = 256;

    /** Diagnostics: this system property sets the candidates for engines opened from now on (0: sample on the host). */
    public static final String PROPERTY = "lorastream.sampling.candidates";

    private SamplingHead() {}

    public static int configured() {
        String v = System.getProperty(PROPERTY, String.valueOf(DEFAULT_CANDIDATES)).trim();
        try {
            int k = Integer.parseInt(v);
            if (k < 0) throw new NumberFormatException();
            return k;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(PROPERTY + " '" + v + "' is not 0 (sample on the host) or a positive number of candidates");
        }
    }

    /** The candidates a graph of this vocabulary gets: at most the vocabulary. */
    public static int candidates(int requested, long vocab) {
        return (int) Math.min(requested, vocab);
    }

    /**
     * The head as a graph of its own: {@link GraphNames#LOGITS} [batch, vocab] of ONNX type
     * {@code act}, {@link GraphNames#NEXT_TOKEN} (each row's greedy token, as the decoder wrote it)
     * and {@link GraphNames#SAMPLING} in; {@link GraphNames#SAMPLED_TOKEN} and
     * {@link GraphNames#SAMPLED} out.
     */
    public static OnnxGraphBuilder graph(long vocab, int act, int candidates) {
        if (candidates < 1) throw new IllegalArgumentException("the sampling head needs at least one candidate, got " + candidates);
        OnnxGraphBuilder g = new OnnxGraphBuilder("lorastream_sampling_head");
        g.input(GraphNames.LOGITS, act, "batch", vocab);
        g.input(GraphNames.NEXT_TOKEN, INT64, "batch");
        g.input(GraphNames.SAMPLING, FLOAT, "batch", 4);
        g.output(GraphNames.SAMPLED_TOKEN, INT64, "batch");
        g.output(GraphNames.SAMPLED, OnnxGraphBuilder.BOOL, "batch");
        build(g, GraphNames.LOGITS, GraphNames.NEXT_TOKEN, GraphNames.SAMPLING, GraphNames.SAMPLED_TOKEN, GraphNames.SAMPLED, vocab, act,
                candidates(candidates, vocab));
        return g;
    }

    /**
     * Adds the nodes that write {@code token} (int64 [batch]: the greedy token where T = 0, else the
     * sample) and {@code sampled} (bool [batch]: the token is final).
     *
     * @param logits   [batch, vocab] of ONNX type {@code act}
     * @param greedy   int64 [batch]: each row's greedy token
     * @param sampling float [batch, 4]: temperature, top_p, top_k, u
     */
    public static void build(OnnxGraphBuilder g, String logits, String greedy, String sampling, String token, String sampled,
                             long vocab, int act, int candidates) {
        long kc = candidates;
        String x = act == FLOAT ? logits : g.op("Cast", List.of(logits), Attr.i("to", FLOAT));
        String temperature = g.op("Slice", sampling, g.ints(0), g.ints(1), g.ints(1));  // [B, 1]
        String topP = g.op("Slice", sampling, g.ints(1), g.ints(2), g.ints(1));
        String topK = g.op("Slice", sampling, g.ints(2), g.ints(3), g.ints(1));
        String u = g.op("Slice", sampling, g.ints(3), g.ints(4), g.ints(1));
        String zero = g.scalarFloat(0f), one = g.scalarFloat(1f);

        List<String> top = g.opIn("", "TopK", List.of(x, g.ints(kc)), 2, Attr.i("axis", -1), Attr.i("largest", 1), Attr.i("sorted", 1));
        String values = top.get(0), indices = top.get(1);                                    // [B, Kc], descending
        String max = g.op("Slice", values, g.ints(0), g.ints(1), g.ints(1));                 // [B, 1]
        String positive = g.op("Greater", temperature, zero);
        String invT = g.op("Reciprocal", g.op("Where", positive, temperature, one));
        String p = g.op("Exp", g.op("Mul", g.op("Sub", values, max), invT));               // [B, Kc]
        String everything = g.op("MatMul", g.op("Exp", g.op("Mul", g.op("Sub", x, max), invT)), ones(g, vocab)); // [B, 1]

        String position = positions(g, kc);                                                  // [1, Kc] 0..Kc-1
        String noK = g.op("LessOrEqual", topK, zero);                                        // [B, 1]
        String inK = g.op("Or", noK, g.op("Less", position, topK));                          // [B, Kc]
        String kInside = g.op("And", g.op("Not", noK), g.op("LessOrEqual", topK, g.scalarFloat(kc)));
        String pk = g.op("Mul", p, g.op("Cast", List.of(inK), Attr.i("to", FLOAT)));
        String total = g.op("Where", noK, everything, g.op("MatMul", pk, ones(g, kc)));
        String q = g.op("Div", pk, total);                                                   // normalised within the cut
        String cumulative = g.op("CumSum", q, g.scalarInt(1));
        String before = g.op("Sub", cumulative, q);
        String noP = g.op("GreaterOrEqual", topP, one);
        String keep = g.op("And", inK, g.op("Or", noP, g.op("Less", before, topP)));
        String w = g.op("Mul", q, g.op("Cast", List.of(keep), Attr.i("to", FLOAT)));
        String kept = g.op("MatMul", w, ones(g, kc));                                        // [B, 1]
        String threshold = g.op("Mul", u, g.op("Where", noP, one, kept));
        String cw = g.op("CumSum", w, g.scalarInt(1));
        String below = g.op("MatMul", g.op("Cast", List.of(g.op("LessOrEqual", cw, threshold)), Attr.i("to", FLOAT)), ones(g, kc));
        String keptCount = g.op("MatMul", g.op("Cast", List.of(keep), Attr.i("to", FLOAT)), ones(g, kc));
        String at = g.op("Cast", List.of(g.op("Min", below, g.op("Max", g.op("Sub", keptCount, one), zero))), Attr.i("to", INT64)); // [B, 1]
        String sample = g.op("Squeeze", g.op("GatherElements", List.of(indices, at), Attr.i("axis", 1)), g.ints(1));

        // final on the device: greedy, a top-k inside the candidates, or a nucleus / sample within the candidates' mass
        String mass = g.op("Slice", cumulative, g.ints(kc - 1), g.ints(kc), g.ints(1));     // [B, 1]: the candidates' share
        String nucleusInside = g.op("And", g.op("Not", noP), g.op("GreaterOrEqual", mass, topP));
        String sampleInside = g.op("And", noP, g.op("Less", u, mass));
        String inside = g.op("Or", kInside, g.op("And", noK, g.op("Or", nucleusInside, sampleInside)));
        String isGreedy = g.op("Squeeze", g.op("Not", positive), g.ints(1));
        g.op("Where", token, List.of(isGreedy, greedy, sample));
        g.op("Or", sampled, List.of(isGreedy, g.op("Squeeze", inside, g.ints(1))));
    }

    private static String ones(OnnxGraphBuilder g, long n) {
        String name = "const.sampling.ones." + n;
        if (g.initializers().stream().anyMatch(i -> i.name().equals(name))) return name;
        float[] v = new float[(int) n];
        java.util.Arrays.fill(v, 1f);
        return g.initializer(name, FLOAT, new long[] {n, 1}, RawData.floats(v));
    }

    private static String positions(OnnxGraphBuilder g, long n) {
        float[] v = new float[(int) n];
        for (int i = 0; i < n; i++) v[i] = i;
        return g.initializer("const.sampling.positions", FLOAT, new long[] {1, n}, RawData.floats(v));
    }
}
