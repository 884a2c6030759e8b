package dev.lorastream.bench;

import dev.lorastream.engine.adapters.cache.AdapterMetrics;
import dev.lorastream.engine.adapters.cache.Tier;

import java.util.Arrays;

/**
 * The adapter cache's counters summed over every adapter, read from the engine's Prometheus text
 * (the same figures a scrape sees); {@link #minus} gives what one run added.
 *
 * @param loadBuckets cumulative counts of the load-time histogram per {@link AdapterMetrics#LOAD_BUCKETS_SECONDS} bound, +Inf last
 */
public record CacheCounters(long[] hits, long[] misses, long[] evictions, long loadFailures, long loads, double loadSeconds, long[] loadBuckets) {

    public static CacheCounters parse(String prometheusText) {
        int tiers = Tier.values().length;
        long[] hits = new long[tiers], misses = new long[tiers], evictions = new long[tiers];
        long[] buckets = new long[AdapterMetrics.LOAD_BUCKETS_SECONDS.length + 1];
        long failures = 0, loads = 0;
        double seconds = 0;
        for (String line : prometheusText.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) continue;
            int brace = line.indexOf('{'), space = line.lastIndexOf(' ');
            String name = line.substring(0, brace >= 0 ? brace : space);
            String labels = brace >= 0 ? line.substring(brace, line.lastIndexOf('}') + 1) : "";
            String value = line.substring(space + 1);
            switch (name) {
                case AdapterMetrics.CACHE_HITS -> hits[tier(labels)] += Long.parseLong(value);
                case AdapterMetrics.CACHE_MISSES -> misses[tier(labels)] += Long.parseLong(value);
                case AdapterMetrics.CACHE_EVICTIONS -> evictions[tier(labels)] += Long.parseLong(value);
                case AdapterMetrics.LOAD_FAILURES -> failures += Long.parseLong(value);
                case AdapterMetrics.LOAD_SECONDS + "_count" -> loads += Long.parseLong(value);
                case AdapterMetrics.LOAD_SECONDS + "_sum" -> seconds += Double.parseDouble(value);
                case AdapterMetrics.LOAD_SECONDS + "_bucket" -> buckets[bucket(label(labels, "le"))] += Long.parseLong(value);
                default -> { }
            }
        }
        return new CacheCounters(hits, misses, evictions, failures, loads, seconds, buckets);
    }

    private static int tier(String labels) {
        String t = label(labels, "tier");
        for (Tier tier : Tier.values()) if (tier.label().equals(t)) return tier.ordinal();
        throw new IllegalArgumentException("unknown tier in " + labels);
    }

    private static int bucket(String le) {
        if (le.equals("+Inf")) return AdapterMetrics.LOAD_BUCKETS_SECONDS.length;
        double bound = Double.parseDouble(le);
        for (int b = 0; b < AdapterMetrics.LOAD_BUCKETS_SECONDS.length; b++) if (AdapterMetrics.LOAD_BUCKETS_SECONDS[b] == bound) return b;
        throw new IllegalArgumentException("unknown histogram bucket le=" + le);
    }

    /** A label's value; adapter ids never contain quotes, so no unescaping is needed for tier and le. */
    private static String label(String labels, String key) {
        int at = labels.indexOf(key + "=\"");
        if (at < 0) throw new IllegalArgumentException("no label " + key + " in " + labels);
        int from = at + key.length() + 2;
        return labels.substring(from, labels.indexOf('"', from));
    }

    public CacheCounters minus(CacheCounters before) {
        return new CacheCounters(sub(hits, before.hits), sub(misses, before.misses), sub(evictions, before.evictions),
                loadFailures - before.loadFailures, loads - before.loads, loadSeconds - before.loadSeconds, sub(loadBuckets, before.loadBuckets));
    }

    public CacheCounters plus(CacheCounters other) {
        return new CacheCounters(add(hits, other.hits), add(misses, other.misses), add(evictions, other.evictions),
                loadFailures + other.loadFailures, loads + other.loads, loadSeconds + other.loadSeconds, add(loadBuckets, other.loadBuckets));
    }

    public static CacheCounters zero() {
        int tiers = Tier.values().length;
        return new CacheCounters(new long[tiers], new long[tiers], new long[tiers], 0, 0, 0, new long[AdapterMetrics.LOAD_BUCKETS_SECONDS.length + 1]);
    }

    public long hits(Tier t) { return hits[t.ordinal()]; }

    public long misses(Tier t) { return misses[t.ordinal()]; }

    public long evictions(Tier t) { return evictions[t.ordinal()]; }

    /** Hits over lookups of the tier; NaN without lookups. */
    public double hitRate(Tier t) {
        long n = hits(t) + misses(t);
        return n == 0 ? Double.NaN : (double) hits(t) / n;
    }

    public double meanLoadSeconds() { return loads == 0 ? Double.NaN : loadSeconds / loads; }

    /**
     * A quantile of the load time estimated from the histogram as Prometheus's
     * {@code histogram_quantile} does: linear inside the bucket that holds the rank; the largest
     * finite bound when it falls in +Inf; NaN without loads.
     */
    public double loadQuantileSeconds(double q) {
        long total = loadBuckets[loadBuckets.length - 1];
        if (total == 0) return Double.NaN;
        double rank = q * total;
        double[] bounds = AdapterMetrics.LOAD_BUCKETS_SECONDS;
        long below = 0;
        for (int b = 0; b < bounds.length; b++) {
            if (loadBuckets[b] >= rank) {
                double lower = b == 0 ? 0 : bounds[b - 1];
                long inBucket = loadBuckets[b] - below;
                return inBucket == 0 ? bounds[b] : lower + (bounds[b] - lower) * (rank - below) / inBucket;
            }
            below = loadBuckets[b];
        }
        return bounds[bounds.length - 1];
    }

    private static long[] sub(long[] a, long[] b) {
        long[] r = a.clone();
        for (int i = 0; i < r.length; i++) r[i] -= b[i];
        return r;
    }

    private static long[] add(long[] a, long[] b) {
        long[] r = a.clone();
        for (int i = 0; i < r.length; i++) r[i] += b[i];
        return r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CacheCounters c && Arrays.equals(hits, c.hits) && Arrays.equals(misses, c.misses) && Arrays.equals(evictions, c.evictions)
                && loadFailures == c.loadFailures && loads == c.loads && Double.compare(loadSeconds, c.loadSeconds) == 0 && Arrays.equals(loadBuckets, c.loadBuckets);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(hits) * 31 + Arrays.hashCode(loadBuckets) + Long.hashCode(loads);
    }

    @Override
    public String toString() {
        return "CacheCounters[hits=" + Arrays.toString(hits) + ", misses=" + Arrays.toString(misses) + ", evictions=" + Arrays.toString(evictions)
                + ", loads=" + loads + ", loadFailures=" + loadFailures + "]";
    }
}
