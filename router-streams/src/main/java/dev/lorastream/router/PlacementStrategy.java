package dev.lorastream.router;

/**
 * Chooses the partition of the routed topic, and so the worker, that serves a request of an
 * adapter: by the workers' load and memory ({@code placement.LoadAwarePlacement}, the default), or
 * by hash ({@link HashPlacement}). Implementations must be thread-safe (one instance serves every
 * stream thread) and should keep an adapter where it is cached while that worker has room.
 */
public interface PlacementStrategy {

    /**
     * The partition, in {@code [0, numPartitions)}, for a request keyed by {@code adapterKey}
     * (an adapter id, or {@code Topics.BASE_MODEL_KEY} for the plain backbone).
     *
     * @param requestId the request's id (may be null)
     */
    int partition(String adapterKey, String requestId, int numPartitions);
}
