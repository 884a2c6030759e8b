package dev.lorastream.router.placement;

import dev.lorastream.schemas.WorkerStatus;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The router's live table of workers, fed from workers.status. A worker counts while it is
 * RUNNING, holds partitions, and its latest heartbeat is younger than the timeout (or three of its
 * own reported intervals, whichever is longer); a tombstone or a STOPPING heartbeat removes it at
 * once. Thread-safe; snapshots are rebuilt when the table changes and at most every
 * {@value #REFRESH_MS} ms for ageing.
 */
public final class FleetTable {
    static final long REFRESH_MS = 100;
    private final Map<String, WorkerView> workers = new ConcurrentHashMap<>();
    private final Duration timeout;
    private final Clock clock;
    private volatile Fleet fleet = Fleet.EMPTY;
    private volatile long builtAt = Long.MIN_VALUE;
    private volatile boolean dirty = true;

    public FleetTable(Duration timeout, Clock clock) {
        this.timeout = timeout;
        this.clock = clock;
    }

    public void update(WorkerStatus status) {
        WorkerView w = WorkerView.of(status);
        workers.merge(w.workerId(), w, (old, neu) -> neu.heartbeatAtMs() >= old.heartbeatAtMs() ? neu : old);
        dirty = true;
    }

    public void remove(String workerId) {
        workers.remove(workerId);
        dirty = true;
    }

    /** The live workers now. */
    public Fleet snapshot() {
        long now = clock.millis();
        if (!dirty && now - builtAt < REFRESH_MS) return fleet;
        dirty = false;
        List<WorkerView> live = new ArrayList<>();
        for (WorkerView w : workers.values()) {
            long limit = Math.max(timeout.toMillis(), 3 * w.intervalMs());
            if ("RUNNING".equals(w.state()) && !w.partitions().isEmpty() && now - w.heartbeatAtMs() <= limit) live.add(w);
        }
        Fleet f = Fleet.of(live);
        fleet = f;
        builtAt = now;
        return f;
    }

    /** Workers heard of, live or not. */
    public int known() { return workers.size(); }

    public Duration timeout() { return timeout; }
}
