package dev.lorastream.router.placement;

import dev.lorastream.schemas.WorkerStatus;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One worker as placement sees it, from its latest {@link WorkerStatus}. A heartbeat of the first
 * schema version (no bank, rows or tiers) counts its resident adapters as on the device and its
 * load per request.
 *
 * @param partitions       partitions of the routed topic it holds, sorted
 * @param maxRows          rows of one forward pass; 0 when not reported
 * @param heartbeatAtMs    when it sent this status (its clock)
 * @param intervalMs       the longest it stays silent while alive; 0 when not reported
 */
public record WorkerView(String workerId, String state, List<Integer> partitions, int running, int waiting, int maxRows, int bankSlots,
                         int bankSlotsUsed, long memoryTotalBytes, long memoryFreeBytes, double decodeTokensPerS, Set<String> device,
                         Set<String> host, boolean simulated, long heartbeatAtMs, long intervalMs) {
    public WorkerView {
        partitions = partitions.stream().sorted().distinct().toList();
        device = Set.copyOf(device);
        host = Set.copyOf(host);
    }

    public static WorkerView of(WorkerStatus s) {
        boolean v1 = s.getMaxRows() == 0 && s.getDeviceAdapters().isEmpty() && s.getHostAdapters().isEmpty();
        Set<String> device = new TreeSet<>(v1 ? s.getResidentAdapters() : s.getDeviceAdapters());
        return new WorkerView(s.getWorkerId(), s.getState(), s.getAssignedPartitions(), s.getRunningRequests(), s.getWaitingRequests(),
                s.getMaxRows(), s.getBankSlots(), s.getBankSlotsUsed(), s.getDeviceMemoryTotalBytes(), s.getDeviceMemoryFreeBytes(),
                s.getDecodeTokensPerS(), device, new TreeSet<>(s.getHostAdapters()), s.getSimulated(), s.getHeartbeatAtMs().toEpochMilli(),
                s.getHeartbeatIntervalMs());
    }

    /** Requests on it per row of a forward pass: 1 when every row is taken, above 1 when requests queue. */
    public double utilisation() {
        return (running + waiting) / (double) Math.max(1, maxRows);
    }

    /** Its utilisation in steps of a quarter: what placement compares (finer differences are noise between heartbeats). */
    public int level() {
        return (int) Math.floor(utilisation() * 4);
    }

    /** Whether a request sent to it now would queue behind full rows. */
    public boolean busy(double busyAt) {
        return utilisation() >= busyAt;
    }

    /** Whether it can place one more adapter without evicting one (true when it does not report its bank). */
    public boolean hasFreeSlot() {
        return bankSlots == 0 || bankSlotsUsed < bankSlots;
    }

    public WorkerView withPartitions(List<Integer> p) {
        return new WorkerView(workerId, state, p, running, waiting, maxRows, bankSlots, bankSlotsUsed, memoryTotalBytes, memoryFreeBytes,
                decodeTokensPerS, device, host, simulated, heartbeatAtMs, intervalMs);
    }
}
