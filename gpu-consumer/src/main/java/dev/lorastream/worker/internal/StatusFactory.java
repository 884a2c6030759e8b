package dev.lorastream.worker.internal;

import dev.lorastream.schemas.WorkerStatus;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.util.function.Supplier;

/**
 * Builds this worker's {@link WorkerStatus}: state, partitions held, load, free memory, resident
 * adapters. Free memory is the JVM heap's headroom ({@link Runtime}); reads only thread-safe state.
 */
public final class StatusFactory {
    private final String workerId;
    private final String host;
    private final String provider;
    private final String baseModel;
    private final Supplier<WorkerState> state;
    private final AssignmentTracker assignment;
    private final WorkerMetrics metrics;
    private final Clock clock;

    public StatusFactory(String workerId, String provider, String baseModel, Supplier<WorkerState> state,
                         AssignmentTracker assignment, WorkerMetrics metrics, Clock clock) {
        this.workerId = workerId;
        this.host = hostName();
        this.provider = provider;
        this.baseModel = baseModel;
        this.state = state;
        this.assignment = assignment;
        this.metrics = metrics;
        this.clock = clock;
    }

    public WorkerStatus status() {
        return WorkerStatus.newBuilder()
                .setWorkerId(workerId)
                .setHost(host)
                .setState(state.get().name())
                .setAssignedPartitions(assignment.partitions())
                .setRunningRequests(metrics.running())
                .setWaitingRequests(metrics.waiting())
                .setFreeMemoryBytes(freeMemory())
                .setResidentAdapters(metrics.residentAdapters())
                .setExecutionProvider(provider)
                .setBaseModel(baseModel)
                .setHeartbeatAtMs(clock.instant())
                .build();
    }

    static long freeMemory() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }
}
