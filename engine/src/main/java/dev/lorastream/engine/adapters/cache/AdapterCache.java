package dev.lorastream.engine.adapters.cache;

import dev.lorastream.engine.adapters.cache.CacheConfig.Capacities;
import dev.lorastream.engine.adapters.AdapterValidationException;
import dev.lorastream.engine.adapters.LoraAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * The tiered adapter cache: device slots (rows of the LoRA bank) and host memory (parsed,
 * validated weights) in front of the adapter store, each tier with a capacity in bytes and its
 * own eviction policy.
 *
 * <ul>
 * <li>Host tier: loads run on the given executor, one per adapter at a time however many ask
 *     (single flight); a failed load is remembered and later requests fail fast with the same
 *     {@link AdapterLoadException}. Pinned adapters are never evicted.</li>
 * <li>Device tier: {@link #acquire} places an adapter into a slot by writing only that slot's
 *     rows ({@link DeviceWriter}); a slot whose adapter a running request holds
 *     ({@code acquire} until {@link #release}) is never evicted; when every slot is held the
 *     caller is told to wait, not failed.</li>
 * <li>The tiers do not include each other: a device slot holds its own copy, so evicting an
 *     adapter's host copy never disturbs rows that run on it.</li>
 * </ul>
 * Thread-safe; the device writer is called under the cache's lock by the thread that calls
 * {@code acquire} (the scheduler, between forward passes).
 */
public final class AdapterCache {
    private static final Logger log = LoggerFactory.getLogger(AdapterCache.class);

    /** Reads one adapter from the store into host memory; throws with the reason when it cannot. */
    @FunctionalInterface
    public interface Source {
        LoraAdapter load(String adapterId);
    }

    /** Writes one adapter into one device slot (1..slots), touching no other slot. */
    @FunctionalInterface
    public interface DeviceWriter {
        void write(int slot, LoraAdapter adapter);
    }

    /** The answer of {@link #acquire}. */
    public sealed interface Placement permits Placed, Waiting, Failed {}

    /** In device slot {@code slot}; {@code hit}: it was there already. Release it when done. */
    public record Placed(int slot, boolean hit) implements Placement {}

    /** Not placeable now; ask again after the next forward pass or load. */
    public record Waiting(WaitReason reason) implements Placement {}

    public record Failed(AdapterLoadException cause) implements Placement {}

    public enum WaitReason {
        /** No host copy yet: {@link #fetch} it (once) and ask again when it is loaded. */
        HOST_COPY,
        /** Every device slot is pinned or held by running requests. */
        DEVICE_FULL
    }

    private static final class Entry {
        final String id;
        CompletableFuture<LoraAdapter> loading;
        LoraAdapter host;
        AdapterLoadException failure;
        int slot;
        int inUse;
        boolean pinned;
        /** Its files changed while it was in use: leave the device when the last user releases it. */
        boolean stale;

        Entry(String id) { this.id = id; }
    }

    private final Capacities capacities;
    private final Source source;
    private final DeviceWriter device;
    private final Executor loads;
    private final AdapterMetrics metrics;
    private final EvictionPolicy hostPolicy;
    private final EvictionPolicy devicePolicy;
    private final Map<String, Entry> entries = new HashMap<>();
    /** Adapter id per device slot; index 0 (the plain backbone) stays null. */
    private final String[] slotOwner;
    private long hostUsed;
    private int slotsUsed;
    private boolean closed;

    public AdapterCache(Capacities capacities, CacheConfig config, Source source, DeviceWriter device, Executor loads, AdapterMetrics metrics) {
        this.capacities = capacities;
        this.source = source;
        this.device = device;
        this.loads = loads;
        this.metrics = metrics;
        this.hostPolicy = config.policy().get();
        this.devicePolicy = config.policy().get();
        this.slotOwner = new String[capacities.deviceSlots() + 1];
        updateUsage();
    }

    public Capacities capacities() { return capacities; }

    /** The host copy of an adapter, loading it when needed; counts a host hit or miss. */
    public CompletableFuture<LoraAdapter> fetch(String id) { return fetch(id, true); }

    /** {@link #fetch} without counting a hit or miss (warm-up, admission checks). */
    public CompletableFuture<LoraAdapter> prefetch(String id) { return fetch(id, false); }

    private CompletableFuture<LoraAdapter> fetch(String id, boolean count) {
        CompletableFuture<LoraAdapter> started;
        synchronized (this) {
            if (closed) return CompletableFuture.failedFuture(new IllegalStateException("the adapter cache is closed"));
            Entry e = entry(id);
            if (e.failure != null) return CompletableFuture.failedFuture(e.failure);
            if (e.host != null) {
                if (count) metrics.hit(Tier.HOST, id);
                hostPolicy.touched(id);
                return CompletableFuture.completedFuture(e.host);
            }
            if (count) metrics.miss(Tier.HOST, id);
            if (e.loading != null) return e.loading.copy();
            started = e.loading = new CompletableFuture<>();
        }
        try {
            loads.execute(() -> load(id, started));
        } catch (RejectedExecutionException rejected) {
            synchronized (this) {
                Entry e = entry(id);
                if (e.loading == started) e.loading = null;
            }
            started.completeExceptionally(new IllegalStateException("the adapter cache is closed", rejected));
        }
        return started.copy();
    }

    /** Blocks until the adapter is in host memory (or was); throws its load failure. */
    public LoraAdapter load(String id) {
        try {
            return fetch(id, true).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw e;
        }
    }

    private void load(String id, CompletableFuture<LoraAdapter> future) {
        long t0 = System.nanoTime();
        LoraAdapter adapter = null;
        AdapterLoadException failure = null;
        try {
            adapter = source.load(id);
            if (adapter == null) throw new IllegalStateException("the store returned no adapter");
            if (adapter.sizeBytes() > capacities.slotBytes()) {
                throw new IllegalStateException(adapter.sizeBytes() + " bytes of weights exceed one device slot (" + capacities.slotBytes() + " bytes)");
            }
        } catch (AdapterValidationException e) {
            failure = new AdapterLoadException(id, e.getMessage(), e);
        } catch (RuntimeException e) {
            failure = new AdapterLoadException(id, String.valueOf(e.getMessage()), e);
        } catch (Error e) {
            synchronized (this) {
                Entry entry = entry(id);
                if (entry.loading == future) entry.loading = null;
            }
            future.completeExceptionally(e);
            throw e;
        }
        metrics.loaded(id, System.nanoTime() - t0);
        synchronized (this) {
            Entry e = entry(id);
            if (e.loading == future) {
                e.loading = null;
                if (failure != null) {
                    e.failure = failure;
                    metrics.loadFailed(id);
                    log.warn("{}", failure.getMessage());
                } else {
                    admitToHost(e, adapter);
                }
            }
        }
        if (failure != null) future.completeExceptionally(failure);
        else future.complete(adapter);
    }

    private void admitToHost(Entry e, LoraAdapter adapter) {
        e.host = adapter;
        hostUsed += adapter.sizeBytes();
        hostPolicy.admitted(e.id);
        while (hostUsed > capacities.hostBytes()) {
            Optional<String> victim = hostPolicy.victim(id -> !id.equals(e.id) && !entries.get(id).pinned);
            if (victim.isEmpty()) break;
            evictFromHost(entries.get(victim.get()), true);
        }
        updateUsage();
    }

    private void evictFromHost(Entry e, boolean counted) {
        hostUsed -= e.host.sizeBytes();
        e.host = null;
        hostPolicy.removed(e.id);
        if (counted) metrics.eviction(Tier.HOST, e.id);
        tidy(e);
    }

    /**
     * A device slot for one running request. {@code requested} is the future a previous
     * {@link #fetch} returned for this request, or null; its adapter is placed even when the
     * host tier has given its copy up since.
     */
    public synchronized Placement acquire(String id, CompletableFuture<LoraAdapter> requested) {
        Entry e = entry(id);
        if (e.slot > 0) {
            e.inUse++;
            devicePolicy.touched(id);
            metrics.hit(Tier.DEVICE, id);
            return new Placed(e.slot, true);
        }
        if (e.failure != null) return new Failed(e.failure);
        LoraAdapter adapter = e.host;
        if (adapter == null && requested != null && requested.isDone()) {
            try {
                adapter = requested.join();
            } catch (CompletionException | CancellationException x) {
                Throwable cause = x.getCause() != null ? x.getCause() : x;
                return new Failed(cause instanceof AdapterLoadException a ? a : new AdapterLoadException(id, String.valueOf(cause.getMessage()), cause));
            }
        }
        if (adapter == null) return new Waiting(WaitReason.HOST_COPY);
        int slot = freeSlot();
        if (slot == 0) {
            Optional<String> victim = devicePolicy.victim(v -> {
                Entry o = entries.get(v);
                return o.inUse == 0 && !o.pinned;
            });
            if (victim.isEmpty()) return new Waiting(WaitReason.DEVICE_FULL);
            Entry v = entries.get(victim.get());
            slot = v.slot;
            leaveDevice(v);
            metrics.eviction(Tier.DEVICE, v.id);
            tidy(v);
        }
        device.write(slot, adapter);
        e.slot = slot;
        e.inUse = 1;
        e.stale = false;
        slotOwner[slot] = id;
        slotsUsed++;
        devicePolicy.admitted(id);
        if (e.host != null) hostPolicy.touched(id);
        metrics.miss(Tier.DEVICE, id);
        updateUsage();
        return new Placed(slot, false);
    }

    /** The request that acquired the adapter's slot has left the batch. */
    public synchronized void release(String id) {
        Entry e = entries.get(id);
        if (e == null || e.inUse == 0) throw new IllegalStateException("adapter '" + id + "' is not held by any request");
        e.inUse--;
        if (e.inUse == 0 && e.stale) {
            leaveDevice(e);
            tidy(e);
            updateUsage();
        }
    }

    private void leaveDevice(Entry e) {
        slotOwner[e.slot] = null;
        e.slot = 0;
        e.stale = false;
        slotsUsed--;
        devicePolicy.removed(e.id);
    }

    private int freeSlot() {
        for (int s = 1; s < slotOwner.length; s++) if (slotOwner[s] == null) return s;
        return 0;
    }

    /**
     * Keeps the adapter in every tier it reaches until {@link #unpin}; loads it into host memory
     * now. One device slot always stays unpinned, and the host tier keeps room for one more
     * adapter at max rank beside the pinned ones.
     *
     * @throws IllegalStateException naming the key to raise when the pin would break that rule
     * @throws AdapterLoadException  when the adapter cannot be loaded (it is not pinned then)
     */
    public void pin(String id) {
        synchronized (this) {
            Entry e = entry(id);
            if (e.failure != null) throw e.failure;
            if (!e.pinned) {
                long pinned = entries.values().stream().filter(x -> x.pinned).count();
                if (pinned + 1 > capacities.deviceSlots() - 1) {
                    throw new IllegalStateException("cannot pin adapter '" + id + "': " + pinned + " of " + capacities.deviceSlots()
                            + " device slots are pinned and one must stay free for other adapters; raise " + CacheConfig.DEVICE_BYTES);
                }
                if ((pinned + 2) * capacities.slotBytes() > capacities.hostBytes()) {
                    throw new IllegalStateException("cannot pin adapter '" + id + "': " + (pinned + 1) + " pinned adapters at max rank and room for one more need "
                            + (pinned + 2) * capacities.slotBytes() + " bytes of host memory; raise " + CacheConfig.HOST_BYTES);
                }
                e.pinned = true;
            }
        }
        try {
            prefetch(id).join();
        } catch (CompletionException x) {
            unpin(id);
            if (x.getCause() instanceof RuntimeException r) throw r;
            throw x;
        }
    }

    public synchronized void unpin(String id) {
        Entry e = entries.get(id);
        if (e == null) return;
        e.pinned = false;
        tidy(e);
    }

    /** Marks a use of the adapter for the eviction policies of the tiers that hold it. */
    public synchronized void touch(String id) {
        Entry e = entries.get(id);
        if (e == null) return;
        if (e.host != null) hostPolicy.touched(id);
        if (e.slot > 0) devicePolicy.touched(id);
    }

    /**
     * Forgets what the cache knows of an adapter whose files changed or left the store: its
     * failure, its host copy, and its device slot (at once when idle, else when the last
     * request holding it releases it). A load in flight finishes without being cached.
     */
    public synchronized void forget(String id) {
        Entry e = entries.get(id);
        if (e == null) return;
        e.failure = null;
        e.loading = null;
        if (e.host != null) evictFromHost(e, false);
        if (e.slot > 0) {
            if (e.inUse == 0) leaveDevice(e);
            else e.stale = true;
        }
        tidy(e);
        updateUsage();
    }

    /** Forgets every remembered failure, so the next request tries those loads again. */
    public synchronized void forgetFailures() {
        for (Entry e : entries.values().toArray(Entry[]::new)) {
            e.failure = null;
            tidy(e);
        }
    }

    /**
     * Loads adapters into host memory in the given order while the host tier has room for one
     * more at max rank. Failures are remembered, not thrown.
     */
    public void warmUp(Iterable<String> ids) {
        for (String id : ids) {
            synchronized (this) {
                if (capacities.hostBytes() - hostUsed < capacities.slotBytes()) return;
            }
            try {
                prefetch(id).join();
            } catch (CompletionException | CancellationException e) {
                // remembered as FAILED; reported by failures()
            }
        }
    }

    public synchronized AdapterStatus status(String id) {
        Entry e = entries.get(id);
        if (e == null) return AdapterStatus.COLD;
        if (e.failure != null) return AdapterStatus.FAILED;
        if (e.host != null || e.slot > 0) return AdapterStatus.READY;
        if (e.loading != null) return AdapterStatus.LOADING;
        return AdapterStatus.COLD;
    }

    /** The remembered failure, or null. */
    public synchronized AdapterLoadException failure(String id) {
        Entry e = entries.get(id);
        return e == null ? null : e.failure;
    }

    /** Remembered failures: adapter id to reason. */
    public synchronized Map<String, String> failures() {
        Map<String, String> m = new TreeMap<>();
        entries.values().forEach(e -> {
            if (e.failure != null) m.put(e.id, e.failure.reason());
        });
        return Collections.unmodifiableMap(m);
    }

    public synchronized boolean onDevice(String id) {
        Entry e = entries.get(id);
        return e != null && e.slot > 0;
    }

    /** The device slot of an adapter, 0 when it has none. */
    public synchronized int slotOf(String id) {
        Entry e = entries.get(id);
        return e == null ? 0 : e.slot;
    }

    public synchronized boolean inHost(String id) {
        Entry e = entries.get(id);
        return e != null && e.host != null;
    }

    public synchronized boolean pinned(String id) {
        Entry e = entries.get(id);
        return e != null && e.pinned;
    }

    /** Requests holding the adapter's device slot. */
    public synchronized int inUse(String id) {
        Entry e = entries.get(id);
        return e == null ? 0 : e.inUse;
    }

    /** Host copies by adapter id. */
    public synchronized Map<String, LoraAdapter> hostResident() {
        Map<String, LoraAdapter> m = new TreeMap<>();
        entries.values().forEach(e -> {
            if (e.host != null) m.put(e.id, e.host);
        });
        return Collections.unmodifiableMap(m);
    }

    /** Adapters with a device slot, in id order. */
    public synchronized SortedSet<String> deviceResident() {
        TreeSet<String> s = new TreeSet<>();
        for (int i = 1; i < slotOwner.length; i++) if (slotOwner[i] != null) s.add(slotOwner[i]);
        return Collections.unmodifiableSortedSet(s);
    }

    public synchronized long hostBytesUsed() { return hostUsed; }

    /**
     * The tiers at one moment.
     *
     * @param capacities      the tiers' sizes
     * @param deviceSlotsUsed device slots holding an adapter
     * @param hostBytesUsed   bytes of adapters in host memory
     * @param deviceResident  adapters in a device slot
     * @param hostResident    adapters in host memory
     * @param inUse           adapters held by running requests, with how many
     */
    public record Snapshot(Capacities capacities, int deviceSlotsUsed, long hostBytesUsed, SortedSet<String> deviceResident,
                           SortedSet<String> hostResident, SortedMap<String, Integer> inUse) {}

    public synchronized Snapshot snapshot() {
        TreeSet<String> host = new TreeSet<>();
        TreeMap<String, Integer> inUse = new TreeMap<>();
        entries.values().forEach(e -> {
            if (e.host != null) host.add(e.id);
            if (e.inUse > 0) inUse.put(e.id, e.inUse);
        });
        return new Snapshot(capacities, slotsUsed, hostUsed, deviceResident(), Collections.unmodifiableSortedSet(host), Collections.unmodifiableSortedMap(inUse));
    }

    public synchronized int deviceSlotsUsed() { return slotsUsed; }

    private Entry entry(String id) {
        return entries.computeIfAbsent(id, Entry::new);
    }

    /** Drops an entry that holds nothing worth remembering. */
    private void tidy(Entry e) {
        if (e.host == null && e.slot == 0 && e.loading == null && e.failure == null && !e.pinned && e.inUse == 0) entries.remove(e.id);
    }

    private void updateUsage() {
        metrics.tierUsage(Tier.DEVICE, (long) slotsUsed * capacities.slotBytes(), capacities.deviceBytes());
        metrics.tierUsage(Tier.HOST, hostUsed, capacities.hostBytes());
    }

    /** Fails the loads in flight (their waiters are released) and every later fetch. */
    public void close() {
        List<CompletableFuture<LoraAdapter>> pending = new ArrayList<>();
        synchronized (this) {
            closed = true;
            for (Entry e : entries.values()) {
                if (e.loading != null) pending.add(e.loading);
                e.loading = null;
            }
        }
        IllegalStateException closedError = new IllegalStateException("the adapter cache is closed");
        pending.forEach(f -> f.completeExceptionally(closedError));
    }

    @Override
    public synchronized String toString() {
        return "AdapterCache[device " + slotsUsed + "/" + capacities.deviceSlots() + " slots, host " + hostUsed + "/" + capacities.hostBytes() + " bytes]";
    }
}
