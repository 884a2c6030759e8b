package dev.lorastream.router;

/**
 * Chooses the partition of the routed topic, and so the worker, that serves an adapter's
 * requests. Replaceable: {@link HashPlacement} today; placement by worker load and memory later.
 * Implementations must be thread-safe (one instance serves every stream thread) and should keep
 * an adapter on one partition while the partition count is unchanged, for cache locality.
 */
public interface PlacementStrategy {

    /**
     * The partition, in {@code [0, numPartitions)}, for requests keyed by {@code adapterKey}
     * (an adapter id, or {@code Topics.BASE_MODEL_KEY} for the plain backbone).
     */
    int partition(String adapterKey, int numPartitions);
}
