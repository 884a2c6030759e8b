package dev.lorastream.bench;

import java.util.Arrays;

/** Order statistics of small samples (nearest rank on the sorted values; medians average the middle pair). */
public final class Percentiles {
    private Percentiles() {}

    public static double median(double[] values) {
        if (values.length == 0) return Double.NaN;
        double[] v = values.clone();
        Arrays.sort(v);
        int m = v.length / 2;
        return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
    }

    /** The nearest-rank percentile, {@code p} in (0, 100]. */
    public static double percentile(double[] values, double p) {
        if (values.length == 0) return Double.NaN;
        if (!(p > 0 && p <= 100)) throw new IllegalArgumentException("percentile must be in (0, 100], got " + p);
        double[] v = values.clone();
        Arrays.sort(v);
        int rank = (int) Math.ceil(p / 100 * v.length);
        return v[Math.max(0, rank - 1)];
    }

    public static double min(double[] values) { return Arrays.stream(values).min().orElse(Double.NaN); }

    public static double max(double[] values) { return Arrays.stream(values).max().orElse(Double.NaN); }
}
