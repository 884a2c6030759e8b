package dev.lorastream.worker.internal;

import dev.lorastream.engine.EngineLoad;
import dev.lorastream.schemas.WorkerStatus;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Builds this worker's {@link WorkerStatus}: state, partitions held, and what the engine measures
 * of its load and room ({@link EngineLoad}: device memory, bank slots, KV cache, rows, adapters per
 * tier), plus the decode rate since the previous status. Reads only thread-safe state.
 */
public final class StatusFactory {
    private final String workerId;
    private final String host;
    private final String provider;
    private final String baseModel;
    private final Supplier<WorkerState> state;
    private final AssignmentTracker assignment;
    private final WorkerMetrics metrics;
    private final Supplier<EngineLoad> engine;
    private final Duration interval;
    private final Clock clock;
    private long lastTokens = -1, lastNanos;
    private double lastRate;

    /**
     * @param engine   the engine's load ({@code InferenceEngine::load})
     * @param interval the heartbeat interval, reported so that the router knows how long silence may last
     */
    public StatusFactory(String workerId, String provider, String baseModel, Supplier<WorkerState> state, AssignmentTracker assignment,
                         WorkerMetrics metrics, Supplier<EngineLoad> engine, Duration interval, Clock clock) {
        this.workerId = workerId;
        this.host = hostName();
        this.provider = provider;
        this.baseModel = baseModel;
        this.state = state;
        this.assignment = assignment;
        this.metrics = metrics;
        this.engine = engine;
        this.interval = interval;
        this.clock = clock;
    }

    public synchronized WorkerStatus status() {
        EngineLoad load = engine.get();
        // consumed and not finished = in a row or waiting for one (in the engine's queue or the worker's)
        int unfinished = Math.max(metrics.running() + metrics.waiting(), load.running() + load.waiting());
        return WorkerStatus.newBuilder()
                .setWorkerId(workerId)
                .setHost(host)
                .setState(state.get().name())
                .setAssignedPartitions(assignment.partitions())
                .setRunningRequests(load.running())
                .setWaitingRequests(unfinished - load.running())
                .setFreeMemoryBytes(freeHeap())
                .setResidentAdapters(metrics.residentAdapters())
                .setExecutionProvider(provider)
                .setBaseModel(baseModel)
                .setHeartbeatAtMs(clock.instant())
                .setDeviceMemoryTotalBytes(load.memoryTotalBytes())
                .setDeviceMemoryFreeBytes(load.memoryFreeBytes())
                .setBankSlots(load.bankSlots())
                .setBankSlotsUsed(load.bankSlotsUsed())
                .setMaxRows(load.maxRows())
                .setKvTokensCapacity(load.kvTokensCapacity())
                .setKvTokensUsed(load.kvTokensUsed())
                .setDecodeTokensPerS(rate(load.generatedTokens()))
                .setDeviceAdapters(java.util.List.copyOf(load.deviceAdapters()))
                .setHostAdapters(java.util.List.copyOf(load.hostAdapters()))
                .setSimulated(load.simulated())
                .setHeartbeatIntervalMs((int) Math.min(Integer.MAX_VALUE, interval.toMillis()))
                .build();
    }

    /** Tokens per second since the previous status (the previous rate when less than 100 ms passed). */
    private double rate(long tokens) {
        long now = System.nanoTime();
        if (lastTokens < 0 || tokens < lastTokens) {
            lastTokens = tokens;
            lastNanos = now;
            return 0;
        }
        if (now - lastNanos < 100_000_000L) return lastRate;
        lastRate = (tokens - lastTokens) / ((now - lastNanos) / 1e9);
        lastTokens = tokens;
        lastNanos = now;
        return lastRate;
    }

    static long freeHeap() {
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
