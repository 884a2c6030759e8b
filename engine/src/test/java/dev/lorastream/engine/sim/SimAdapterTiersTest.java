package dev.lorastream.engine.sim;

import dev.lorastream.engine.EngineLoad;
import dev.lorastream.engine.Generation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import static dev.lorastream.engine.sim.EngineFixtures.HOST_TO_DEVICE_MS;
import static dev.lorastream.engine.sim.EngineFixtures.STORE_TO_HOST_MS;
import static dev.lorastream.engine.sim.EngineFixtures.await;
import static dev.lorastream.engine.sim.EngineFixtures.task;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Device bank, host tier and store: a request waits outside the batch for its adapter's load while the
 * other rows go on; least-recently-used eviction among unused adapters; a full bank of running
 * adapters makes it wait; load()'s figures. (Fixture: a0..a5, a0 and a1 in host memory, 2 device slots,
 * 2 host slots; copy 20 ms, store load 60 ms.)
 */
class SimAdapterTiersTest {
    private SimulatedEngine engine;
    private final EngineFixtures.PassLog log = new EngineFixtures.PassLog();

    private SimulatedEngine open(SimConfig config) {
        engine = new SimulatedEngine(config);
        engine.addPassListener(log);
        return engine;
    }

    @AfterEach
    void close() {
        if (engine != null) engine.close();
    }

    @Test
    void anAdapterFromTheStoreWaitsForItsLoadWhileTheBackboneRowRuns() {
        open(EngineFixtures.config());
        long t0 = System.nanoTime();
        CompletableFuture<Generation> cold = engine.submit(task("cold", "a4", 4, 2));
        CompletableFuture<Generation> base = engine.submit(task("base", null, 4, 100));

        await("the backbone row running, the cold request waiting", () -> {
            EngineLoad l = engine.load();
            return l.running() == 1 && l.waiting() == 1;
        });
        assertThat(engine.load().deviceAdapters()).doesNotContain("a4");
        cold.join();
        double coldWallMs = (System.nanoTime() - t0) / 1e6;
        base.join();

        // it came later than the backbone request, which went on decoding meanwhile
        SimPass coldPrefill = log.first("cold");
        assertThat(log.first("base").number()).isLessThan(coldPrefill.number());
        assertThat(log.of("base")).filteredOn(p -> p.kind() == SimPass.Kind.DECODE && p.number() < coldPrefill.number()).hasSizeGreaterThanOrEqualTo(3);
        assertThat(coldWallMs).isGreaterThanOrEqualTo(STORE_TO_HOST_MS + HOST_TO_DEVICE_MS);

        SimulatedEngine.Stats s = engine.stats();
        assertThat(s.loadsFromStore()).isEqualTo(1);
        assertThat(s.copiesToDevice()).isEqualTo(1);
        assertThat(s.deviceMisses()).isEqualTo(1);
        assertThat(s.hostMisses()).isEqualTo(1);
        // the host tier (2 adapters) made room by dropping its least recently used, a0
        assertThat(s.hostEvictions()).isEqualTo(1);
        EngineLoad l = engine.load();
        assertThat(l.hostAdapters()).containsExactly("a1", "a4");
        assertThat(l.deviceAdapters()).containsExactly("a4");
        assertThat(engine.prometheusText()).contains("lorastream_sim_adapter_loads_total{simulated=\"true\",tier=\"host\"} 1")
                .contains("lorastream_sim_adapter_loads_total{simulated=\"true\",tier=\"device\"} 1");
    }

    @Test
    void anAdapterInHostMemoryOnlyWaitsForTheCopy() {
        open(EngineFixtures.config());
        long t0 = System.nanoTime();
        engine.generate(List.of(task("warm", "a1", 4, 1)));
        double wallMs = (System.nanoTime() - t0) / 1e6;

        assertThat(wallMs).isGreaterThanOrEqualTo(HOST_TO_DEVICE_MS);
        SimulatedEngine.Stats s = engine.stats();
        assertThat(s.loadsFromStore()).isZero();
        assertThat(s.copiesToDevice()).isEqualTo(1);
        assertThat(s.hostHits()).isEqualTo(1);

        engine.generate(List.of(task("hot", "a1", 4, 1)));
        assertThat(engine.stats().deviceHits()).isEqualTo(1);
        assertThat(engine.stats().copiesToDevice()).isEqualTo(1);
    }

    @Test
    void aFullBankEvictsTheLeastRecentlyUsedAdapterNoRequestUses() {
        open(EngineFixtures.config());
        engine.generate(List.of(task("1", "a0", 4, 1)));
        engine.generate(List.of(task("2", "a1", 4, 1)));
        engine.generate(List.of(task("3", "a2", 4, 1)));
        assertThat(engine.load().deviceAdapters()).containsExactly("a1", "a2");

        engine.generate(List.of(task("4", "a1", 4, 1)));
        engine.generate(List.of(task("5", "a3", 4, 1)));

        // a2 was used less recently than a1 (first in, first out would have dropped a1)
        assertThat(engine.load().deviceAdapters()).containsExactly("a1", "a3");
        assertThat(engine.stats().deviceEvictions()).isEqualTo(2);
        assertThat(engine.load().bankSlotsUsed()).isEqualTo(2);
        assertThat(engine.load().bankSlotsFree()).isZero();
    }

    @Test
    void whenRunningRequestsHoldEverySlotTheNextAdapterWaitsAndAdapterRequestsBehindItToo() {
        // a0, a1, a2 in host memory
        open(EngineFixtures.config().withTiers(2, 3));
        CompletableFuture<Generation> l0 = engine.submit(task("l0", "a0", 4, 60));
        CompletableFuture<Generation> l1 = engine.submit(task("l1", "a1", 4, 60));
        await("both long requests running", () -> engine.load().running() == 2);

        CompletableFuture<Generation> w = engine.submit(task("w", "a2", 4, 2));
        CompletableFuture<Generation> v = engine.submit(task("v", "a0", 4, 2));
        CompletableFuture<Generation> b = engine.submit(task("b", null, 4, 2));
        b.join();
        EngineLoad during = engine.load();
        assertThat(during.waiting()).isEqualTo(2);
        assertThat(during.running()).isEqualTo(2);
        assertThat(during.bankSlotsUsed()).isEqualTo(2);
        assertThat(engine.stats().deviceEvictions()).isZero();
        CompletableFuture.allOf(l0, l1, w, v).join();

        // w joined only after a long request left (both ran their 60 tokens), v (its adapter on the device) not before w
        long firstLongDone = Math.min(log.last("l0").number(), log.last("l1").number());
        assertThat(log.first("w").number()).isGreaterThan(firstLongDone);
        assertThat(log.first("v").number()).isGreaterThanOrEqualTo(log.first("w").number());
        assertThat(log.first("b").number()).isLessThan(firstLongDone);
        assertThat(l0.join().tokenIds()).hasSize(60);
        // only once the long requests had left: w's slot from one of a0 and a1, then v's a0 back in the slot of the other
        assertThat(engine.stats().deviceEvictions()).isEqualTo(2);
        assertThat(engine.load().deviceAdapters()).containsExactlyInAnyOrder("a0", "a2");
    }

    @Test
    void loadReportsMemorySlotsRowsAndTokens() {
        open(EngineFixtures.config());
        EngineLoad idle = engine.load();
        long bank = 3 * EngineFixtures.SLOT;
        assertThat(idle.simulated()).isTrue();
        assertThat(idle.memoryTotalBytes()).isEqualTo(EngineFixtures.MEMORY);
        assertThat(idle.memoryFreeBytes()).isEqualTo(EngineFixtures.MEMORY - EngineFixtures.WEIGHTS - bank);
        assertThat(idle.bankSlots()).isEqualTo(2);
        assertThat(idle.bankSlotsUsed()).isZero();
        assertThat(idle.maxRows()).isEqualTo(4);
        assertThat(idle.kvTokensCapacity()).isEqualTo(4 * 256);
        assertThat(idle.kvTokensUsed()).isZero();
        assertThat(idle.generatedTokens()).isZero();
        assertThat(idle.hostAdapters()).containsExactly("a0", "a1");
        assertThat(idle.deviceAdapters()).isEmpty();

        CompletableFuture<Generation> f = engine.submit(task("long", "a0", 10, 150));
        await("the request running", () -> engine.load().running() == 1 && engine.load().generatedTokens() > 0);
        EngineLoad busy = engine.load();
        await("more tokens", () -> engine.load().generatedTokens() > busy.generatedTokens());
        assertThat(busy.bankSlotsUsed()).isEqualTo(1);
        assertThat(busy.deviceAdapters()).containsExactly("a0");
        assertThat(busy.kvTokensUsed()).isEqualTo(10 + busy.generatedTokens());
        assertThat(busy.memoryFreeBytes()).isEqualTo(EngineFixtures.MEMORY - EngineFixtures.WEIGHTS - bank - busy.kvTokensUsed() * EngineFixtures.KV_PER_TOKEN);
        f.join();

        EngineLoad after = engine.load();
        assertThat(after.generatedTokens()).isEqualTo(150);
        assertThat(after.running()).isZero();
        assertThat(after.kvTokensUsed()).isZero();
        assertThat(after.bankSlotsUsed()).isEqualTo(1);
        assertThat(engine.residentAdapterIds()).containsExactlyInAnyOrder("a0", "a1");
    }
}
