package dev.lorastream.engine.scheduler;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Next-token choice: greedy (temperature 0) or temperature / top-k / top-p sampling with a seeded generator. */
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

    public int next(float[] logits) {
        return temperature == 0f ? argmax(logits) : sample(logits);
    }

    /** Index of the largest logit; the lowest index among equals. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    private int sample(float[] logits) {
        int n = logits.length;
        float max = logits[argmax(logits)];
        double[] p = new double[n];
        for (int i = 0; i < n; i++) p[i] = Math.exp((logits[i] - max) / (double) temperature);
        // order by probability (descending), ties by index: pack (float bits, ~index) into sortable longs
        long[] order = new long[n];
        for (int i = 0; i < n; i++) order[i] = ((long) Float.floatToRawIntBits((float) p[i]) << 32) | (~i & 0xffffffffL);
        Arrays.sort(order);
        int keep = topK > 0 ? Math.min(topK, n) : n;
        double total = 0;
        for (int j = 0; j < keep; j++) total += p[index(order, n, j)];
        if (topP < 1f) {
            double cumulative = 0;
            int cut = 0;
            while (cut < keep) {
                cumulative += p[index(order, n, cut)] / total;
                cut++;
                if (cumulative >= topP) break;
            }
            keep = cut;
            total = 0;
            for (int j = 0; j < keep; j++) total += p[index(order, n, j)];
        }
        double u = random.nextDouble() * total;
        double acc = 0;
        for (int j = 0; j < keep; j++) {
            int i = index(order, n, j);
            acc += p[i];
            if (u < acc) return i;
        }
        return index(order, n, keep - 1);
    }

    /** The j-th most probable index. */
    private static int index(long[] ascending, int n, int j) {
        return ~(int) ascending[n - 1 - j];
    }
}
