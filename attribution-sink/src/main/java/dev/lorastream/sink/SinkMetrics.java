package dev.lorastream.sink;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Counters of one {@link AttributionSink}, under the prefix {@value #PREFIX}. */
public final class SinkMetrics {
    public static final String PREFIX = "lorastream.sink.";
    /** Records read from the attribution topic (a replayed record counts again). */
    public static final String RECORDS_CONSUMED = PREFIX + "records.consumed";
    /** Events newly stored. */
    public static final String EVENTS_INSERTED = PREFIX + "events.inserted";
    /** Events skipped because their event id was already stored (replays, duplicates). */
    public static final String EVENTS_DUPLICATE = PREFIX + "events.duplicate";
    /** Records sent to the dead-letter topic. */
    public static final String RECORDS_DEAD_LETTERED = PREFIX + "records.dead.lettered";
    /** Batches written and their offsets committed. */
    public static final String BATCHES_COMMITTED = PREFIX + "batches.committed";
    /** Batches that failed (store, dead-letter topic or commit) and were rewound to be read again. */
    public static final String BATCHES_FAILED = PREFIX + "batches.failed";

    private static final List<String> NAMES = List.of(RECORDS_CONSUMED, EVENTS_INSERTED, EVENTS_DUPLICATE,
            RECORDS_DEAD_LETTERED, BATCHES_COMMITTED, BATCHES_FAILED);

    private final Map<String, AtomicLong> counters = new LinkedHashMap<>();

    SinkMetrics() {
        for (String name : NAMES) counters.put(name, new AtomicLong());
    }

    public long get(String name) {
        AtomicLong counter = counters.get(name);
        if (counter == null) throw new IllegalArgumentException("unknown sink metric " + name + "; known: " + NAMES);
        return counter.get();
    }

    public Map<String, Long> snapshot() {
        Map<String, Long> values = new LinkedHashMap<>();
        counters.forEach((name, counter) -> values.put(name, counter.get()));
        return values;
    }

    void add(String name, long delta) { counters.get(name).addAndGet(delta); }

    @Override
    public String toString() { return snapshot().toString(); }
}
