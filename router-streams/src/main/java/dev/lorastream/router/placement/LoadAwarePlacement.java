package dev.lorastream.router.placement;

import dev.lorastream.router.HashPlacement;
import dev.lorastream.router.PlacementStrategy;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Places each adapter's requests on a worker by what the workers report (a {@link FleetTable} fed
 * from workers.status), a pure function of that table: two routers reading the same heartbeats
 * make the same choice. For adapter a, among the live workers holding routed partitions:
 *
 * <ol>
 *   <li>{@link Reason#DEVICE}: a worker with a in a device slot that is not busy: the least loaded
 *       (in quarter-row steps), ties to the first in a's rendezvous order (so at low load one
 *       worker takes all of a and the others' copies age out; under load a spreads over them);</li>
 *   <li>{@link Reason#HOST}: else one with a in host memory, not busy, first in rendezvous order;</li>
 *   <li>{@link Reason#COLD} (no worker holds a) or {@link Reason#REPLICA} (every holder is busy):
 *       else the first worker in rendezvous order that is not busy and has a free bank slot, else
 *       the first not busy: a new copy lands on one worker, the same for every request until it
 *       reports a resident, so a hot adapter gains one replica at a time;</li>
 *   <li>{@link Reason#ALL_BUSY}: else the least utilised holder of a, or the least utilised worker.</li>
 * </ol>
 *
 * Requests for the plain backbone ({@code Topics.BASE_MODEL_KEY}) count every worker as a holder.
 * A worker is busy when its running and waiting requests fill its rows ({@code busyAt} × rows).
 * The partition is one of the chosen worker's, the same for a given adapter. With no live worker
 * it hashes like {@link HashPlacement} ({@link Reason#NO_FLEET}). Decisions are counted per reason
 * ({@link PlacementMetrics}); a changed choice for an adapter is logged with its reason.
 */
public final class LoadAwarePlacement implements PlacementStrategy {
    private static final Logger log = LoggerFactory.getLogger(LoadAwarePlacement.class);
    /** Adapters whose last choice is remembered for the log of changes. */
    private static final int REMEMBERED = 10_000;

    public enum Reason {
        DEVICE, HOST, COLD, REPLICA, ALL_BUSY, NO_FLEET;

        public String label() { return name().toLowerCase(java.util.Locale.ROOT); }
    }

    /** A choice: the partition, its worker (null without a fleet) and why. */
    public record Decision(int partition, String workerId, Reason reason) {}

    private final FleetTable table;
    private final double busyAt;
    private final PlacementMetrics metrics;
    private final HashPlacement hash = new HashPlacement();
    private final Map<String, String> lastChoice = new ConcurrentHashMap<>();

    /** @param busyAt utilisation (requests per row) at which a worker counts as busy; 1.0: every row taken */
    public LoadAwarePlacement(FleetTable table, double busyAt, PlacementMetrics metrics) {
        if (!(busyAt > 0)) throw new IllegalArgumentException("busyAt must be positive, was " + busyAt);
        this.table = table;
        this.busyAt = busyAt;
        this.metrics = metrics;
    }

    @Override
    public int partition(String adapterKey, String requestId, int numPartitions) {
        return decide(adapterKey, numPartitions).partition();
    }

    /** The live workers as placement sees them now. */
    public Fleet fleet() { return table.snapshot(); }

    public Decision decide(String adapter, int numPartitions) {
        if (adapter == null) throw new IllegalArgumentException("adapter key is null; the backbone's key is Topics.BASE_MODEL_KEY");
        Fleet fleet = table.snapshot();
        List<WorkerView> workers = new ArrayList<>();
        for (WorkerView w : fleet.workers()) {
            List<Integer> within = w.partitions().stream().filter(p -> p < numPartitions).toList();
            if (!within.isEmpty()) workers.add(within.size() == w.partitions().size() ? w : w.withPartitions(within));
        }
        metrics.fleet(workers.size());
        Decision d = workers.isEmpty() ? new Decision(hash.partition(adapter, null, numPartitions), null, Reason.NO_FLEET) : choose(adapter, workers);
        metrics.placed(d.reason());
        if (d.workerId() != null) {
            String before = lastChoice.put(adapter, d.workerId());
            if (!d.workerId().equals(before)) {
                log.info("placement: adapter={} worker={} partition={} reason={}{}", adapter, d.workerId(), d.partition(), d.reason().label(),
                        before == null ? "" : " (was " + before + ")");
            }
            if (lastChoice.size() > REMEMBERED) lastChoice.clear();
        }
        return d;
    }

    private Decision choose(String adapter, List<WorkerView> workers) {
        List<WorkerView> order = new ArrayList<>(workers);
        order.sort(Comparator.comparing(WorkerView::workerId, rendezvousOrder(adapter)));
        // every worker holds the backbone: its requests go to the least loaded
        List<WorkerView> holders = Topics.BASE_MODEL_KEY.equals(adapter) ? order : order.stream().filter(w -> w.device().contains(adapter)).toList();
        WorkerView best = null;
        for (WorkerView w : holders) {
            if (!w.busy(busyAt) && (best == null || w.level() < best.level())) best = w;
        }
        if (best != null) return at(adapter, best, Reason.DEVICE);
        for (WorkerView w : order) {
            if (!w.device().contains(adapter) && w.host().contains(adapter) && !w.busy(busyAt)) return at(adapter, w, Reason.HOST);
        }
        Reason fresh = holders.isEmpty() ? Reason.COLD : Reason.REPLICA;
        for (WorkerView w : order) if (!w.busy(busyAt) && w.hasFreeSlot() && !holders.contains(w)) return at(adapter, w, fresh);
        for (WorkerView w : order) if (!w.busy(busyAt) && !holders.contains(w)) return at(adapter, w, fresh);
        List<WorkerView> pool = holders.isEmpty() ? order : holders;
        WorkerView least = pool.getFirst();
        for (WorkerView w : pool) if (w.utilisation() < least.utilisation()) least = w;
        return at(adapter, least, Reason.ALL_BUSY);
    }

    private static Decision at(String adapter, WorkerView w, Reason reason) {
        List<Integer> p = w.partitions();
        return new Decision(p.get(Math.floorMod(Utils.murmur2(adapter.getBytes(StandardCharsets.UTF_8)), p.size())), w.workerId(), reason);
    }

    /** Worker ids in the adapter's rendezvous order: the order in which placement tries workers for it. */
    public static Comparator<String> rendezvousOrder(String adapter) {
        return Comparator.comparingLong((String worker) -> -rendezvous(adapter, worker)).thenComparing(Comparator.naturalOrder());
    }

    /** The adapter's weight for a worker in rendezvous (highest-random-weight) hashing: a stable order of workers per adapter. */
    static long rendezvous(String adapter, String workerId) {
        byte[] a = adapter.getBytes(StandardCharsets.UTF_8), w = workerId.getBytes(StandardCharsets.UTF_8);
        byte[] both = new byte[a.length + 1 + w.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(w, 0, both, a.length + 1, w.length);
        long h = Utils.murmur2(both) & 0xffffffffL;
        h ^= h >>> 16; // mix: murmur2 of nearly equal inputs differs in few high bits
        h *= 0x9E3779B97F4A7C15L;
        return h ^ (h >>> 29);
    }

    @Override
    public String toString() {
        return "load-aware placement (busy at " + busyAt + " requests per row, a worker gone after " + table.timeout().toMillis() + " ms silent)";
    }
}
