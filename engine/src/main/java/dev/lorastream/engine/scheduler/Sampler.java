package dev.lorastream.engine.scheduler;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Next-token choice: greedy (temperature 0) or temperature / top-k / top-p sampling with a seeded
 * generator. A sampled token is the inverse of the kept distribution's CDF at one uniform draw u,
 * the tokens ordered by logit (descending, the lower index first among equals): the device's
 * sampling head ({@code graph.SamplingHead}) answers the same way from the same u, so a row
 * sampled on the device or here draws once per token either way.
 */
public final class Sampler {
    private final float temperature;
    private final float topP;
    private final int topK;
    private final SplittableRandom random;

    public Sampler(float temperature, float topP, int topK, long seed) {
        this.temperature = temperature;
        this.topP = topP;
        this.topK = topK;
        this.random = new SplittableRandom(seed);
    }

    /** The task's seed, or a 64-bit FNV-1a hash of its request id. */
    public static long seedFor(Long seed, String requestId) {
        if (seed != null) return seed;
        long h = 0xcbf29ce484222325L;
        for (byte b : String.valueOf(requestId).getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    public boolean greedy() { return temperature == 0f; }

    public float temperature() { return temperature; }

    public float topP() { return topP; }

    public int topK() { return topK; }

    /** The next sampled token's uniform draw in [0, 1), as the float the device is given. */
    public float draw() {
        float u = (float) random.nextDouble();
        return u < 1f ? u : Math.nextDown(1f);
    }

    /** The next token of these logits: the argmax, or a sample at a fresh draw. */
    public int next(float[] logits) {
        return greedy() ? argmax(logits) : sample(logits, draw());
    }

    /** Index of the largest logit; the lowest index among equals. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** Tokens the first look at a row's order takes; it grows fourfold while the answer lies beyond. */
    static final int FIRST_LOOK = 256;

    /**
     * The sample of these logits at draw {@code u} in [0, 1). Only as much of the order is sorted
     * as the answer needs: the top_k tokens, or (no cut) the leading tokens until the top_p cut or
     * the draw falls among them, looking at 256, then 1,024, ... tokens: the same answer as sorting
     * the whole vocabulary.
     */
    public int sample(float[] logits, double u) {
        int n = logits.length;
        float max = logits[argmax(logits)];
        int cut = topK > 0 ? Math.min(topK, n) : n;
        double all = 0;
        if (cut == n) for (float l : logits) all += Math.exp((l - max) / (double) temperature);
        for (int look = topK > 0 ? cut : Math.min(n, FIRST_LOOK); ; look = (int) Math.min(n, 4L * look)) {
            int[] order = leading(logits, look);
            double[] p = new double[look];
            for (int j = 0; j < look; j++) p[j] = Math.exp((logits[order[j]] - max) / (double) temperature);
            double total = all;
            if (cut < n) {
                total = 0;
                for (double x : p) total += x; // look == cut: exactly the top_k tokens
            }
            int keep = Math.min(cut, look);
            if (topP < 1f) {
                double cumulative = 0;
                int kept = 0;
                while (kept < keep && cumulative < topP) cumulative += p[kept++] / total;
                if (cumulative < topP && look < cut) continue; // the nucleus reaches beyond what was looked at
                keep = kept;
                total = 0;
                for (int j = 0; j < keep; j++) total += p[j];
            }
            double threshold = u * total, acc = 0;
            for (int j = 0; j < keep; j++) {
                acc += p[j];
                if (threshold < acc) return order[j];
            }
            if (look < cut && topP >= 1f) continue; // the draw falls beyond what was looked at
            return order[keep - 1];
        }
    }

    /**
     * The {@code m} leading indices of the order (logit descending, the lower index first among
     * equals), in that order: a min-heap of the best m keys seen, then sorted.
     */
    static int[] leading(float[] logits, int m) {
        int n = logits.length;
        long[] heap = new long[m];
        int size = 0;
        for (int i = 0; i < n; i++) {
            long key = ((long) sortable(logits[i]) << 32) | (~i & 0xffffffffL);
            if (size < m) {
                heap[size] = key;
                up(heap, size++);
            } else if (key > heap[0]) {
                heap[0] = key;
                down(heap, m);
            }
        }
        Arrays.sort(heap, 0, size);
        int[] order = new int[size];
        for (int j = 0; j < size; j++) order[j] = ~(int) heap[size - 1 - j];
        return order;
    }

    private static void up(long[] h, int i) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (h[parent] <= h[i]) return;
            long t = h[parent];
            h[parent] = h[i];
            h[i] = t;
            i = parent;
        }
    }

    private static void down(long[] h, int size) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1, smallest = i;
            if (l < size && h[l] < h[smallest]) smallest = l;
            if (l + 1 < size && h[l + 1] < h[smallest]) smallest = l + 1;
            if (smallest == i) return;
            long t = h[smallest];
            h[smallest] = h[i];
            h[i] = t;
            i = smallest;
        }
    }

    /** An int whose signed order is the float's order (-0 as +0). */
    private static int sortable(float x) {
        int b = Float.floatToIntBits(x == 0f ? 0f : x);
        return b ^ ((b >> 31) & 0x7fffffff);
    }

}
