package dev.lorastream.engine.adapters.cache;

import dev.lorastream.engine.adapters.cache.AdapterCache.Failed;
import dev.lorastream.engine.adapters.cache.AdapterCache.Placed;
import dev.lorastream.engine.adapters.cache.AdapterCache.Placement;
import dev.lorastream.engine.adapters.cache.AdapterCache.WaitReason;
import dev.lorastream.engine.adapters.cache.AdapterCache.Waiting;
import dev.lorastream.engine.adapters.cache.CacheConfig.Capacities;
import dev.lorastream.engine.adapters.LoraAdapter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class AdapterCacheTest {
    private static final long SLOT = 400;
    private final FakeAdapters store = new FakeAdapters();
    private final AdapterMetrics metrics = new AdapterMetrics();

    /** Loads run on the calling thread. */
    private AdapterCache cache(int slots, long hostBytes) {
        return new AdapterCache(new Capacities(slots, SLOT, slots * SLOT, hostBytes), CacheConfig.DEFAULT, store, store, Runnable::run, metrics);
    }

    private static int placedSlot(Placement p) {
        assertThat(p).isInstanceOf(Placed.class);
        return ((Placed) p).slot();
    }

    @Test
    void theHostTierEvictsTheLeastRecentlyUsedAdapterWhenItsBytesRunOut() {
        store.add("a", 400).add("b", 400).add("c", 400);
        AdapterCache cache = cache(1, 800);
        cache.load("a");
        cache.load("b");
        cache.fetch("a").join();

        cache.load("c");

        assertThat(cache.hostResident()).containsOnlyKeys("a", "c");
        assertThat(cache.status("b")).isEqualTo(AdapterStatus.COLD);
        assertThat(metrics.evictions(Tier.HOST, "b")).isEqualTo(1);
        assertThat(cache.hostBytesUsed()).isEqualTo(800);
    }

    @Test
    void hostCapacityCountsBytesNotAdapters() {
        store.add("big", 400).add("s1", 100).add("s2", 100).add("s3", 100);
        AdapterCache cache = cache(1, 600);
        cache.load("big");
        cache.load("s1");
        cache.load("s2");
        cache.load("s3");

        assertThat(cache.hostResident()).containsOnlyKeys("s1", "s2", "s3");
        assertThat(cache.hostBytesUsed()).isEqualTo(300);

        cache.load("big");

        assertThat(cache.hostResident()).containsOnlyKeys("big", "s2", "s3");
        assertThat(cache.hostBytesUsed()).isEqualTo(600);
    }

    @Test
    void aFullDeviceTierEvictsItsLeastRecentlyUsedIdleSlotAndWritesOnlyThatSlot() {
        store.add("a", 100).add("b", 100).add("c", 100);
        AdapterCache cache = cache(2, 4 * SLOT);
        for (String id : List.of("a", "b")) {
            placedSlot(cache.acquire(id, cache.fetch(id)));
            cache.release(id);
        }
        assertThat(cache.acquire("a", null)).isEqualTo(new Placed(1, true));
        cache.release("a");

        Placement c = cache.acquire("c", cache.fetch("c"));

        assertThat(c).isEqualTo(new Placed(2, false));
        assertThat(cache.deviceResident()).containsExactly("a", "c");
        assertThat(store.writes).containsExactly("1:a", "2:b", "2:c");
        assertThat(metrics.evictions(Tier.DEVICE, "b")).isEqualTo(1);
        assertThat(cache.inHost("b")).as("a device eviction leaves the host copy").isTrue();
    }

    @Test
    void anAdapterHeldByARunningRequestIsNeverEvictedAndANewOneWaitsInsteadOfFailing() {
        store.add("a", 100).add("b", 100);
        AdapterCache cache = cache(1, 4 * SLOT);
        placedSlot(cache.acquire("a", cache.fetch("a")));
        CompletableFuture<LoraAdapter> bCopy = cache.fetch("b");

        Placement waiting = cache.acquire("b", bCopy);

        assertThat(waiting).isEqualTo(new Waiting(WaitReason.DEVICE_FULL));
        assertThat(cache.onDevice("a")).isTrue();

        cache.release("a");
        Placement placed = cache.acquire("b", bCopy);

        assertThat(placed).isEqualTo(new Placed(1, false));
        assertThat(cache.onDevice("a")).isFalse();
    }

    @Test
    void aRequestWaitsForTheHostCopyBeforeItCanTakeASlot() throws Exception {
        store.add("a", 100);
        ExecutorService loads = Executors.newSingleThreadExecutor();
        CountDownLatch gate = new CountDownLatch(1);
        try {
            AdapterCache cache = new AdapterCache(new Capacities(1, SLOT, SLOT, 2 * SLOT), CacheConfig.DEFAULT, id -> {
                await(gate);
                return store.load(id);
            }, store, loads, metrics);
            CompletableFuture<LoraAdapter> copy = cache.fetch("a");

            assertThat(cache.acquire("a", copy)).isEqualTo(new Waiting(WaitReason.HOST_COPY));
            assertThat(cache.status("a")).isEqualTo(AdapterStatus.LOADING);

            gate.countDown();
            copy.join();

            assertThat(cache.acquire("a", copy)).isEqualTo(new Placed(1, false));
            assertThat(cache.status("a")).isEqualTo(AdapterStatus.READY);
        } finally {
            loads.shutdownNow();
        }
    }

    @Test
    void aPinnedAdapterStaysInBothTiersWhileUnpinnedOnesAreEvicted() {
        store.add("p", 400).add("a", 400).add("b", 400).add("c", 400);
        AdapterCache cache = cache(2, 3 * SLOT);
        cache.pin("p");
        placedSlot(cache.acquire("p", null));
        cache.release("p");

        for (String id : List.of("a", "b", "c")) {
            placedSlot(cache.acquire(id, cache.fetch(id)));
            cache.release(id);
        }

        assertThat(cache.inHost("p")).isTrue();
        assertThat(cache.onDevice("p")).isTrue();
        assertThat(cache.deviceResident()).containsExactly("c", "p");
        assertThat(metrics.evictions(Tier.DEVICE, "p")).isZero();
        assertThat(metrics.evictions(Tier.HOST, "p")).isZero();

        cache.unpin("p");
        placedSlot(cache.acquire("a", cache.fetch("a")));

        assertThat(cache.onDevice("p")).as("unpinned, it is the least recently used").isFalse();
    }

    @Test
    void pinningRefusesToTakeTheLastUnpinnedDeviceSlot() {
        store.add("p", 100).add("q", 100);
        AdapterCache cache = cache(2, 8 * SLOT);
        cache.pin("p");

        assertThatThrownBy(() -> cache.pin("q")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("1 of 2 device slots are pinned").hasMessageContaining(CacheConfig.DEVICE_BYTES);
        assertThat(cache.pinned("q")).isFalse();
    }

    @Test
    void aFailedLoadIsRememberedAndRepeatsFailFastWithTheSameReason() {
        store.broken("bad", "DoRA is not supported");
        AdapterCache cache = cache(1, SLOT);

        AdapterLoadException first = catchThrowableOfType(AdapterLoadException.class, () -> cache.load("bad"));
        AdapterLoadException second = catchThrowableOfType(AdapterLoadException.class, () -> cache.load("bad"));
        Placement third = cache.acquire("bad", null);

        assertThat(first.getMessage()).isEqualTo("adapter 'bad' failed to load: bad/adapter_config.json: use_dora: DoRA is not supported");
        assertThat(second).isSameAs(first);
        assertThat(third).isEqualTo(new Failed(first));
        assertThat(cache.status("bad")).isEqualTo(AdapterStatus.FAILED);
        assertThat(cache.failures()).containsEntry("bad", "bad/adapter_config.json: use_dora: DoRA is not supported");
        assertThat(store.loads("bad")).isEqualTo(1);
        assertThat(metrics.loadFailures("bad")).isEqualTo(1);
    }

    @Test
    void aForgottenFailureIsTriedAgain() {
        store.broken("bad", "broken");
        AdapterCache cache = cache(1, SLOT);
        catchThrowableOfType(AdapterLoadException.class, () -> cache.load("bad"));

        cache.forgetFailures();

        assertThat(cache.status("bad")).isEqualTo(AdapterStatus.COLD);
        catchThrowableOfType(AdapterLoadException.class, () -> cache.load("bad"));
        assertThat(store.loads("bad")).isEqualTo(2);
    }

    @Test
    void concurrentRequestsForOneColdAdapterLoadItOnce() throws Exception {
        store.add("hot", 100);
        int threads = 8;
        CountDownLatch asked = new CountDownLatch(threads);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService loads = Executors.newFixedThreadPool(2);
        ExecutorService callers = Executors.newFixedThreadPool(threads);
        try {
            AdapterCache cache = new AdapterCache(new Capacities(1, SLOT, SLOT, SLOT), CacheConfig.DEFAULT, id -> {
                await(release);
                return store.load(id);
            }, store, loads, metrics);
            List<Future<LoraAdapter>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(callers.submit(() -> {
                    CompletableFuture<LoraAdapter> f = cache.fetch("hot");
                    asked.countDown();
                    return f.join();
                }));
            }
            asked.await();
            assertThat(cache.status("hot")).isEqualTo(AdapterStatus.LOADING);

            release.countDown();
            LoraAdapter first = results.getFirst().get();

            for (Future<LoraAdapter> r : results) assertThat(r.get()).isSameAs(first);
            assertThat(store.loads("hot")).isEqualTo(1);
            assertThat(metrics.loads("hot")).isEqualTo(1);
            assertThat(metrics.misses(Tier.HOST, "hot")).isEqualTo(threads);
        } finally {
            release.countDown();
            loads.shutdownNow();
            callers.shutdownNow();
        }
    }

    @Test
    void hitsAndMissesAreCountedPerTier() {
        store.add("a", 100);
        AdapterCache cache = cache(1, 2 * SLOT);

        placedSlot(cache.acquire("a", cache.fetch("a")));
        cache.release("a");
        placedSlot(cache.acquire("a", null));
        cache.release("a");
        cache.fetch("a").join();
        cache.prefetch("a").join();

        assertThat(metrics.misses(Tier.HOST, "a")).isEqualTo(1);
        assertThat(metrics.hits(Tier.HOST, "a")).as("prefetch does not count").isEqualTo(1);
        assertThat(metrics.misses(Tier.DEVICE, "a")).isEqualTo(1);
        assertThat(metrics.hits(Tier.DEVICE, "a")).isEqualTo(1);
    }

    @Test
    void anAdapterEvictedFromHostMemoryIsStillPlacedFromTheCopyItsRequestFetched() {
        store.add("a", 400).add("b", 400);
        AdapterCache cache = cache(1, SLOT);
        CompletableFuture<LoraAdapter> aCopy = cache.fetch("a");
        cache.load("b");
        assertThat(cache.inHost("a")).isFalse();

        assertThat(cache.acquire("a", aCopy)).isEqualTo(new Placed(1, false));
        assertThat(store.loads("a")).isEqualTo(1);
    }

    @Test
    void forgettingAnAdapterInUseFreesItsSlotOnlyWhenItsLastRequestReleasesIt() {
        store.add("a", 100);
        AdapterCache cache = cache(1, 2 * SLOT);
        placedSlot(cache.acquire("a", cache.fetch("a")));

        cache.forget("a");

        assertThat(cache.onDevice("a")).isTrue();
        assertThat(cache.inHost("a")).isFalse();
        cache.release("a");
        assertThat(cache.onDevice("a")).isFalse();
        assertThat(cache.status("a")).isEqualTo(AdapterStatus.COLD);
    }

    @Test
    void warmUpLoadsWhileTheHostTierHasRoomForOneMoreAtMaxRank() {
        store.add("a", 400).add("b", 400).add("c", 400).broken("bad", "broken");
        AdapterCache cache = cache(1, 2 * SLOT + 100);

        cache.warmUp(List.of("bad", "a", "b", "c"));

        assertThat(cache.hostResident()).containsOnlyKeys("a", "b");
        assertThat(cache.failures()).containsOnlyKeys("bad");
        assertThat(metrics.misses(Tier.HOST, "a")).isZero();
    }

    @Test
    void closingTheCacheReleasesRequestsWaitingForALoadThatNeverRan() {
        store.add("a", 100);
        List<Runnable> neverRun = new ArrayList<>();
        AdapterCache cache = new AdapterCache(new Capacities(1, SLOT, SLOT, SLOT), CacheConfig.DEFAULT, store, store, neverRun::add, metrics);
        CompletableFuture<LoraAdapter> waiting = cache.fetch("a");

        cache.close();

        assertThat(waiting).isCompletedExceptionally();
        assertThatThrownBy(waiting::join).hasMessageContaining("the adapter cache is closed");
        assertThat(cache.fetch("a")).isCompletedExceptionally();
        assertThat(neverRun).hasSize(1);
    }

    @Test
    void releasingAnAdapterNobodyHoldsIsABug() {
        AdapterCache cache = cache(1, SLOT);
        assertThatThrownBy(() -> cache.release("x")).isInstanceOf(IllegalStateException.class).hasMessageContaining("'x' is not held");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
