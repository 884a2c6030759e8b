package dev.lorastream.router.placement;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The live workers at one moment, each with the partitions it holds. A partition two workers claim
 * (one has not yet reported losing it in a rebalance) goes to the one with the newer heartbeat.
 */
public record Fleet(List<WorkerView> workers) {
    public static final Fleet EMPTY = new Fleet(List.of());

    public Fleet {
        workers = List.copyOf(workers);
    }

    /** The workers, partitions resolved between claimants; workers left with none are dropped. */
    static Fleet of(List<WorkerView> live) {
        Map<Integer, WorkerView> owner = new HashMap<>();
        for (WorkerView w : live) {
            for (int p : w.partitions()) {
                WorkerView o = owner.get(p);
                if (o == null || w.heartbeatAtMs() > o.heartbeatAtMs()
                        || (w.heartbeatAtMs() == o.heartbeatAtMs() && w.workerId().compareTo(o.workerId()) < 0)) owner.put(p, w);
            }
        }
        List<WorkerView> out = new ArrayList<>();
        for (WorkerView w : live) {
            List<Integer> mine = w.partitions().stream().filter(p -> owner.get(p) == w).toList();
            if (!mine.isEmpty()) out.add(mine.size() == w.partitions().size() ? w : w.withPartitions(mine));
        }
        out.sort(Comparator.comparing(WorkerView::workerId));
        return new Fleet(out);
    }

    public boolean isEmpty() { return workers.isEmpty(); }
}
