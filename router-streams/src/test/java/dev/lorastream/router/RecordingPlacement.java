package dev.lorastream.router;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Test double: {@link HashPlacement}'s answer, remembered per adapter key; throws for an adapter
 * named with {@link #explodeFor}, to stand in for a bug inside the router.
 */
final class RecordingPlacement implements PlacementStrategy {
    final Map<String, List<Integer>> chosen = new ConcurrentHashMap<>();
    private final HashPlacement delegate = new HashPlacement();
    private volatile String explosive;

    void explodeFor(String adapterKey) { this.explosive = adapterKey; }

    @Override
    public int partition(String adapterKey, String requestId, int numPartitions) {
        if (adapterKey.equals(explosive)) throw new IllegalStateException("placement exploded for " + adapterKey);
        int partition = delegate.partition(adapterKey, requestId, numPartitions);
        chosen.computeIfAbsent(adapterKey, k -> new CopyOnWriteArrayList<>()).add(partition);
        return partition;
    }
}
