package dev.lorastream.engine.adapters.cache;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedSet;
import java.util.function.Predicate;

/**
 * Least frequently used first, with aging, and a memory of adapters that left the tier. Each
 * admission and use adds one to an adapter's count; the victim is the evictable adapter with the
 * lowest count, the least recently used among equals. Every {@value #AGING_FACTOR} × (tier size,
 * at least {@value #MIN_PERIOD}) events all counts are halved, so yesterday's popularity fades,
 * and counts of adapters outside the tier that reach zero are forgotten (at most
 * {@value #HISTORY_FACTOR} × the tier's size are kept). Under skewed popularity this keeps the
 * popular adapters resident while one-off requests of the long tail take turns in the remaining
 * room, where least-recently-used lets every passing tail adapter push a popular one out. Not
 * thread-safe: the cache calls it under its lock.
 */
public final class LfuPolicy implements EvictionPolicy {
    static final int AGING_FACTOR = 16;
    static final int MIN_PERIOD = 256;
    static final int HISTORY_FACTOR = 8;

    /** Members of the tier, least recently used first. */
    private final SequencedSet<String> members = new LinkedHashSet<>();
    /** Counts of members and of remembered former members. */
    private final Map<String, Integer> counts = new HashMap<>();
    private long sinceAging;

    @Override
    public void admitted(String adapterId) {
        members.remove(adapterId);
        members.addLast(adapterId);
        count(adapterId);
    }

    @Override
    public void touched(String adapterId) {
        if (!members.remove(adapterId)) return;
        members.addLast(adapterId);
        count(adapterId);
    }

    @Override
    public void removed(String adapterId) {
        members.remove(adapterId);
    }

    @Override
    public Optional<String> victim(Predicate<String> evictable) {
        String best = null;
        int bestCount = Integer.MAX_VALUE;
        for (String id : members) {
            int c = counts.getOrDefault(id, 0);
            if (c < bestCount && evictable.test(id)) {
                best = id;
                bestCount = c;
            }
        }
        return Optional.ofNullable(best);
    }

    /** The adapter's current count (0 when unknown). */
    int countOf(String adapterId) { return counts.getOrDefault(adapterId, 0); }

    /** Adapters whose count is remembered, in the tier or not. */
    int remembered() { return counts.size(); }

    private void count(String adapterId) {
        counts.merge(adapterId, 1, Integer::sum);
        if (++sinceAging >= (long) AGING_FACTOR * Math.max(MIN_PERIOD, members.size())) age();
    }

    private void age() {
        sinceAging = 0;
        for (Iterator<Map.Entry<String, Integer>> it = counts.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Integer> e = it.next();
            int halved = e.getValue() >> 1;
            if (halved == 0 && !members.contains(e.getKey())) it.remove();
            else e.setValue(halved);
        }
        int limit = HISTORY_FACTOR * Math.max(MIN_PERIOD, members.size());
        if (counts.size() > limit) counts.keySet().removeIf(id -> !members.contains(id) && counts.get(id) <= 1);
    }

    @Override
    public String toString() { return "lfu" + members; }
}
