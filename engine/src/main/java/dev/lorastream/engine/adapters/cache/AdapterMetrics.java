package dev.lorastream.engine.adapters.cache;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Per-adapter serving metrics of one engine, rendered in the Prometheus text exposition format
 * (version 0.0.4). Names share the prefix {@value #PREFIX}; series carry an {@code adapter}
 * label ({@value #BASE_LABEL} for requests on the plain backbone) and, for cache counters, a
 * {@code tier} label ({@code device}, {@code host}). Thread-safe.
 */
public final class AdapterMetrics {
    public static final String PREFIX = "lorastream_adapter_";
    public static final String REQUESTS_RUNNING = PREFIX + "requests_running";
    public static final String REQUESTS_WAITING = PREFIX + "requests_waiting";
    public static final String CACHE_HITS = PREFIX + "cache_hits_total";
    public static final String CACHE_MISSES = PREFIX + "cache_misses_total";
    public static final String CACHE_EVICTIONS = PREFIX + "cache_evictions_total";
    public static final String LOAD_FAILURES = PREFIX + "load_failures_total";
    public static final String LOAD_SECONDS = PREFIX + "load_seconds";
    public static final String CACHE_USED_BYTES = PREFIX + "cache_used_bytes";
    public static final String CACHE_CAPACITY_BYTES = PREFIX + "cache_capacity_bytes";
    /** The adapter label of requests without an adapter (adapter ids cannot start with '_'). */
    public static final String BASE_LABEL = "__base__";
    /** Upper bounds of the load-time histogram's buckets, seconds (+Inf comes on top). */
    public static final double[] LOAD_BUCKETS_SECONDS = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

    private final Map<String, Series> series = new ConcurrentHashMap<>();
    private final AtomicLongArray usedBytes = new AtomicLongArray(Tier.values().length);
    private final AtomicLongArray capacityBytes = new AtomicLongArray(Tier.values().length);

    private static final class Series {
        final AtomicLong running = new AtomicLong(), waiting = new AtomicLong(), loadFailures = new AtomicLong();
        final AtomicLongArray hits = new AtomicLongArray(Tier.values().length);
        final AtomicLongArray misses = new AtomicLongArray(Tier.values().length);
        final AtomicLongArray evictions = new AtomicLongArray(Tier.values().length);
        /** Non-cumulative counts per bucket; the last is +Inf. Guarded by this. */
        final long[] buckets = new long[LOAD_BUCKETS_SECONDS.length + 1];
        long loadCount, loadNanos;
    }

    private Series of(String adapterId) {
        return series.computeIfAbsent(adapterId == null ? BASE_LABEL : adapterId, k -> new Series());
    }

    public void waitingChanged(String adapterId, int delta) { of(adapterId).waiting.addAndGet(delta); }

    public void runningChanged(String adapterId, int delta) { of(adapterId).running.addAndGet(delta); }

    public void hit(Tier tier, String adapterId) { of(adapterId).hits.incrementAndGet(tier.ordinal()); }

    public void miss(Tier tier, String adapterId) { of(adapterId).misses.incrementAndGet(tier.ordinal()); }

    public void eviction(Tier tier, String adapterId) { of(adapterId).evictions.incrementAndGet(tier.ordinal()); }

    public void loadFailed(String adapterId) { of(adapterId).loadFailures.incrementAndGet(); }

    /** A load from the store (successful or not) that took {@code nanos}. */
    public void loaded(String adapterId, long nanos) {
        Series s = of(adapterId);
        double seconds = nanos / 1e9;
        int b = 0;
        while (b < LOAD_BUCKETS_SECONDS.length && seconds > LOAD_BUCKETS_SECONDS[b]) b++;
        synchronized (s) {
            s.buckets[b]++;
            s.loadCount++;
            s.loadNanos += nanos;
        }
    }

    public void tierUsage(Tier tier, long used, long capacity) {
        usedBytes.set(tier.ordinal(), used);
        capacityBytes.set(tier.ordinal(), capacity);
    }

    public long running(String adapterId) { return of(adapterId).running.get(); }

    public long waiting(String adapterId) { return of(adapterId).waiting.get(); }

    public long hits(Tier tier, String adapterId) { return of(adapterId).hits.get(tier.ordinal()); }

    public long misses(Tier tier, String adapterId) { return of(adapterId).misses.get(tier.ordinal()); }

    public long evictions(Tier tier, String adapterId) { return of(adapterId).evictions.get(tier.ordinal()); }

    public long loadFailures(String adapterId) { return of(adapterId).loadFailures.get(); }

    public long loads(String adapterId) {
        Series s = of(adapterId);
        synchronized (s) {
            return s.loadCount;
        }
    }

    public long usedBytes(Tier tier) { return usedBytes.get(tier.ordinal()); }

    /** Sums of a counter over every adapter. */
    public long totalHits(Tier tier) { return series.values().stream().mapToLong(s -> s.hits.get(tier.ordinal())).sum(); }

    public long totalMisses(Tier tier) { return series.values().stream().mapToLong(s -> s.misses.get(tier.ordinal())).sum(); }

    /** Every metric in the Prometheus text format, adapters in id order. */
    public String prometheusText() {
        Map<String, Series> sorted = new TreeMap<>(series);
        StringBuilder sb = new StringBuilder(256 + sorted.size() * 512);
        family(sb, REQUESTS_RUNNING, "gauge", "Requests of the adapter in the running batch.");
        sorted.forEach((id, s) -> sample(sb, REQUESTS_RUNNING, labels(id, null), s.running.get()));
        family(sb, REQUESTS_WAITING, "gauge", "Requests of the adapter waiting to join the running batch.");
        sorted.forEach((id, s) -> sample(sb, REQUESTS_WAITING, labels(id, null), s.waiting.get()));
        Map<String, Series> adapters = new TreeMap<>(sorted);
        adapters.remove(BASE_LABEL);
        perTier(sb, adapters, CACHE_HITS, "Requests that found the adapter in the tier.", s -> s.hits);
        perTier(sb, adapters, CACHE_MISSES, "Requests that did not find the adapter in the tier.", s -> s.misses);
        perTier(sb, adapters, CACHE_EVICTIONS, "Times the adapter was evicted from the tier.", s -> s.evictions);
        family(sb, LOAD_FAILURES, "counter", "Loads of the adapter from the store that failed.");
        adapters.forEach((id, s) -> sample(sb, LOAD_FAILURES, labels(id, null), s.loadFailures.get()));
        family(sb, LOAD_SECONDS, "histogram", "Time to load the adapter from the store into host memory.");
        adapters.forEach((id, s) -> histogram(sb, id, s));
        family(sb, CACHE_USED_BYTES, "gauge", "Bytes of adapters the tier holds (device: occupied slots at max rank).");
        for (Tier t : Tier.values()) sample(sb, CACHE_USED_BYTES, "{tier=\"" + t.label() + "\"}", usedBytes.get(t.ordinal()));
        family(sb, CACHE_CAPACITY_BYTES, "gauge", "Capacity of the tier in bytes.");
        for (Tier t : Tier.values()) sample(sb, CACHE_CAPACITY_BYTES, "{tier=\"" + t.label() + "\"}", capacityBytes.get(t.ordinal()));
        return sb.toString();
    }

    private static void perTier(StringBuilder sb, Map<String, Series> adapters, String name, String help,
                                java.util.function.Function<Series, AtomicLongArray> counter) {
        family(sb, name, "counter", help);
        adapters.forEach((id, s) -> {
            for (Tier t : Tier.values()) sample(sb, name, labels(id, t), counter.apply(s).get(t.ordinal()));
        });
    }

    private static void histogram(StringBuilder sb, String id, Series s) {
        long[] buckets;
        long count, nanos;
        synchronized (s) {
            buckets = s.buckets.clone();
            count = s.loadCount;
            nanos = s.loadNanos;
        }
        String adapter = "adapter=\"" + escape(id) + "\"";
        long cumulative = 0;
        for (int b = 0; b <= LOAD_BUCKETS_SECONDS.length; b++) {
            cumulative += buckets[b];
            String le = b < LOAD_BUCKETS_SECONDS.length ? Double.toString(LOAD_BUCKETS_SECONDS[b]) : "+Inf";
            sample(sb, LOAD_SECONDS + "_bucket", "{" + adapter + ",le=\"" + le + "\"}", cumulative);
        }
        sb.append(LOAD_SECONDS).append("_sum{").append(adapter).append("} ").append(nanos / 1e9).append('\n');
        sample(sb, LOAD_SECONDS + "_count", "{" + adapter + "}", count);
    }

    private static void family(StringBuilder sb, String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder sb, String name, String labels, long value) {
        sb.append(name).append(labels).append(' ').append(value).append('\n');
    }

    private static String labels(String adapter, Tier tier) {
        return "{adapter=\"" + escape(adapter) + "\"" + (tier == null ? "" : ",tier=\"" + tier.label() + "\"") + "}";
    }

    /** Label value escaping of the text format: backslash, double quote and line feed. */
    static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
