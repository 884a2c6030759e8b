package dev.lorastream.bench;

import java.util.Arrays;
import java.util.Random;

/**
 * Draws ranks 0..n-1 with Zipf popularity: {@code P(k) ∝ 1 / (k + 1)^s}. Inverse-CDF sampling
 * on a precomputed table, from a seeded {@link Random}: the same seed gives the same sequence.
 * Not thread-safe.
 */
public final class ZipfSampler {
    private final double[] cdf;
    private final double exponent;
    private final Random random;

    public ZipfSampler(int n, double exponent, long seed) {
        if (n < 1) throw new IllegalArgumentException("n must be at least 1, got " + n);
        if (!(exponent >= 0) || Double.isInfinite(exponent)) throw new IllegalArgumentException("exponent must be finite and >= 0, got " + exponent);
        this.exponent = exponent;
        this.cdf = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++) {
            sum += weight(k);
            cdf[k] = sum;
        }
        for (int k = 0; k < n; k++) cdf[k] /= sum;
        cdf[n - 1] = 1.0;
        this.random = new Random(seed);
    }

    private double weight(int rank) { return 1.0 / Math.pow(rank + 1, exponent); }

    public int size() { return cdf.length; }

    /** The next rank, 0 (most popular) .. n-1. */
    public int next() {
        int i = Arrays.binarySearch(cdf, random.nextDouble());
        return i >= 0 ? i : -i - 1;
    }

    /** The probability of a rank. */
    public double probability(int rank) {
        if (rank < 0 || rank >= cdf.length) throw new IllegalArgumentException("rank " + rank + " is outside [0, " + cdf.length + ")");
        return rank == 0 ? cdf[0] : cdf[rank] - cdf[rank - 1];
    }

    /** The probability mass of the {@code k} most popular ranks. */
    public double headMass(int k) {
        if (k <= 0) return 0;
        return cdf[Math.min(k, cdf.length) - 1];
    }

    public double exponent() { return exponent; }
}
