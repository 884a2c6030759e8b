package dev.lorastream.engine.scheduler;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Sampling as defined, written plainly in double precision over the whole sorted vocabulary: the
 * tokens by logit descending (the lower index first among equals); p = exp((logit - max) / T); the
 * first top_k (0: all); then the leading ones while the mass before them is below top_p; the first
 * token whose cumulative kept mass exceeds u times the kept mass (the last kept one if none). Also
 * whether what it keeps lies among the first {@code candidates} (what a sampling head of that many
 * candidates can answer), and how near a boundary u and the cut are.
 */
public final class SamplingReference {
    private SamplingReference() {}

    /** The reference's answer: the token, whether the device can give it (what it keeps lies among the candidates), and how near a boundary. */
    public record Ref(int token, boolean inside, double tokenMargin, double insideMargin) {}

    public static Ref sample(float[] logits, float t, float topP, int topK, double u, int candidates) {
        int n = logits.length;
        Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -logits[i]).thenComparingInt(i -> i));
        double max = logits[order[0]];
        double[] p = new double[n];
        for (int j = 0; j < n; j++) p[j] = Math.exp((logits[order[j]] - max) / t);
        int keep = topK > 0 ? Math.min(topK, n) : n;
        double total = 0;
        for (int j = 0; j < keep; j++) total += p[j];
        double margin = Double.MAX_VALUE;
        if (topP < 1f) {
            double before = 0;
            int cut = 0;
            while (cut < keep) {
                margin = Math.min(margin, Math.abs(before - topP));
                if (before >= topP) break;
                before += p[cut] / total;
                cut++;
            }
            keep = cut;
            total = 0;
            for (int j = 0; j < keep; j++) total += p[j];
        }
        double threshold = u * total, acc = 0;
        int token = order[keep - 1];
        for (int j = 0; j < keep; j++) {
            acc += p[j];
            margin = Math.min(margin, Math.abs(acc - threshold) / total);
            if (threshold < acc) {
                token = order[j];
                break;
            }
        }
        boolean inside;
        double insideMargin = Double.MAX_VALUE;
        if (topK >= 1) {
            inside = topK <= candidates;
        } else {
            double all = 0, top = 0;
            for (int j = 0; j < n; j++) all += p[j];
            for (int j = 0; j < candidates; j++) top += p[j];
            double mass = top / all;
            inside = topP < 1f ? mass >= topP : u < mass;
            insideMargin = topP < 1f ? Math.abs(mass - topP) : Math.abs(mass - u);
        }
        return new Ref(token, inside, margin, insideMargin);
    }

}
