package dev.lorastream.engine.sim;

import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static dev.lorastream.engine.sim.EngineFixtures.await;
import static dev.lorastream.engine.sim.EngineFixtures.task;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Continuous batching on the simulated clock: passes, their rows and durations, joins mid-flight, the time scale, the tokens. */
class SimBatchingTest {
    private final List<SimulatedEngine> engines = new ArrayList<>();

    private SimulatedEngine open(SimConfig config, EngineFixtures.PassLog log) {
        SimulatedEngine e = new SimulatedEngine(config);
        if (log != null) e.addPassListener(log);
        engines.add(e);
        return e;
    }

    @AfterEach
    void closeAll() {
        engines.forEach(SimulatedEngine::close);
    }

    @Test
    void aBatchRunsOnePrefillThenDecodePassesWhoseDurationsFollowTheCostModel() {
        EngineFixtures.PassLog log = new EngineFixtures.PassLog();
        SimulatedEngine engine = open(EngineFixtures.config(), log);

        List<Generation> out = engine.generate(List.of(task("r1", null, 4, 4), task("r2", null, 8, 4), task("r3", null, 16, 2)));

        // prefill of 28 tokens: 1 + 3 x (28 - 4) / 36 = 3 ms; decode 3 rows 4 ms (between 2 rows, 3 ms, and 4 rows, 5 ms), then 2 rows 3 ms twice
        assertThat(log.passes).extracting(SimPass::kind)
                .containsExactly(SimPass.Kind.PREFILL, SimPass.Kind.DECODE, SimPass.Kind.DECODE, SimPass.Kind.DECODE);
        assertThat(log.passes).extracting(SimPass::rows).containsExactly(3, 3, 2, 2);
        assertThat(log.passes).extracting(SimPass::simulatedMs).containsExactly(3.0, 4.0, 3.0, 3.0);
        assertThat(log.passes.getFirst().promptTokens()).isEqualTo(28);
        assertThat(log.passes).extracting(SimPass::number).containsExactly(0L, 1L, 2L, 3L);

        assertThat(out).extracting(Generation::requestId).containsExactly("r1", "r2", "r3");
        assertThat(out).extracting(g -> g.tokenIds().length).containsExactly(4, 4, 2);
        assertThat(out).extracting(Generation::finishReason).containsOnly("length");
        assertThat(out).extracting(Generation::prefillMs).containsOnly(3L);
        assertThat(out).extracting(Generation::decodeMs).containsExactly(10L, 10L, 4L);
        // its share: of the prefill by prompt tokens, of each decode pass by rows
        assertThat(out.get(0).computeMs()).isCloseTo(3.0 * 4 / 28 + 4.0 / 3 + 3.0 / 2 + 3.0 / 2, within(1e-9));
        assertThat(out.get(2).computeMs()).isCloseTo(3.0 * 16 / 28 + 4.0 / 3, within(1e-9));

        SimulatedEngine.Stats s = engine.stats();
        assertThat(s.passes()).isEqualTo(4);
        assertThat(s.prefillPasses()).isEqualTo(1);
        assertThat(s.decodePasses()).isEqualTo(3);
        assertThat(s.simulatedMs()).isCloseTo(13.0, within(1e-9));
        assertThat(s.generatedTokens()).isEqualTo(10);
        assertThat(s.promptTokens()).isEqualTo(28);
    }

    @Test
    void distinctAdaptersInAPassCostTheirShareOfTheGapBetweenTheCurves() {
        EngineFixtures.PassLog log = new EngineFixtures.PassLog();
        // a0 and a1 are in host memory; the device bank has 2 slots
        SimulatedEngine engine = open(EngineFixtures.config(), log);

        List<Generation> distinct = engine.generate(List.of(task("d1", "a0", 4, 3), task("d2", "a1", 4, 3)));
        List<Generation> shared = engine.generate(List.of(task("s1", "a0", 4, 3), task("s2", "a0", 4, 3)));

        // 2 rows: backbone 3 ms, each row its own adapter 4 ms; one adapter for both rows: half the gap, 3.5 ms
        assertThat(log.of("d1")).filteredOn(p -> p.kind() == SimPass.Kind.DECODE)
                .allSatisfy(p -> {
                    assertThat(p.rows()).isEqualTo(2);
                    assertThat(p.distinctAdapters()).isEqualTo(2);
                    assertThat(p.simulatedMs()).isEqualTo(4.0);
                });
        assertThat(distinct).extracting(Generation::decodeMs).containsOnly(8L);
        assertThat(log.of("s1")).filteredOn(p -> p.kind() == SimPass.Kind.DECODE).extracting(SimPass::simulatedMs).containsOnly(3.5);
        assertThat(shared).extracting(Generation::decodeMs).containsOnly(7L);
    }

    @Test
    void aPassHoldsAtMostMaxRowsAndTheRestJoinAsRowsFinish() {
        EngineFixtures.PassLog log = new EngineFixtures.PassLog();
        SimulatedEngine engine = open(EngineFixtures.config().withMaxRows(2), log);
        List<GenerationTask> batch = new ArrayList<>();
        for (int i = 1; i <= 5; i++) batch.add(task("r" + i, null, 4, 3));

        List<Generation> out = engine.generate(batch);

        assertThat(log.passes).allSatisfy(p -> assertThat(p.rows()).isBetween(1, 2));
        assertThat(log.passes).hasSize(9);
        assertThat(log.passes).filteredOn(p -> p.kind() == SimPass.Kind.PREFILL).extracting(SimPass::requestIds)
                .containsExactly(List.of("r1", "r2"), List.of("r3", "r4"), List.of("r5"));
        // r3 joins only after r1's last token
        assertThat(log.first("r3").number()).isGreaterThan(log.last("r1").number());
        assertThat(out).extracting(Generation::decodeMs).containsExactly(6L, 6L, 6L, 6L, 4L);
    }

    @Test
    void aRequestJoinsTheRunningBatchBetweenPassesAndLeavesBeforeIt() {
        EngineFixtures.PassLog log = new EngineFixtures.PassLog();
        SimulatedEngine engine = open(EngineFixtures.config(), log);

        CompletableFuture<Generation> a = engine.submit(task("A", null, 4, 200));
        await("A decoding", () -> log.decodesOf("A") >= 2);
        CompletableFuture<Generation> b = engine.submit(task("B", null, 4, 3));
        Generation gb = b.join();
        assertThat(a).isNotDone();
        Generation ga = a.join();

        SimPass bPrefill = log.first("B");
        assertThat(bPrefill.kind()).isEqualTo(SimPass.Kind.PREFILL);
        assertThat(bPrefill.requestIds()).containsExactly("B");
        assertThat(log.of("A").getFirst().number()).isLessThan(bPrefill.number());
        // B's two decode passes hold A too; A then runs alone again
        assertThat(log.of("B")).filteredOn(p -> p.kind() == SimPass.Kind.DECODE).extracting(SimPass::requestIds)
                .containsExactly(List.of("A", "B"), List.of("A", "B"));
        assertThat(log.last("A").number()).isGreaterThan(log.last("B").number());
        assertThat(log.last("A").requestIds()).containsExactly("A");
        // A: 199 decode steps, two of them with 2 rows (3 ms), the others alone (2 ms)
        assertThat(ga.decodeMs()).isEqualTo(197 * 2 + 2 * 3);
        assertThat(gb.decodeMs()).isEqualTo(2 * 3);
        assertThat(ga.tokenIds()).hasSize(200);
    }

    @Test
    void theTimeScaleStretchesTheWallClockButNotTheReportedTimes() {
        SimulatedEngine engine = open(EngineFixtures.config().withTimeScale(10), null);

        long t0 = System.nanoTime();
        Generation g = engine.generate(List.of(task("slow", null, 4, 6))).getFirst();
        double wallMs = (System.nanoTime() - t0) / 1e6;

        // 1 ms of prefill and 5 decode steps of 2 ms: 11 simulated ms, 110 on the wall clock
        assertThat(g.prefillMs()).isEqualTo(1);
        assertThat(g.decodeMs()).isEqualTo(10);
        assertThat(wallMs).isGreaterThanOrEqualTo(110.0);
    }

    @Test
    void tokensAreDeterministicInTheSeedTheRequestIdAndTheStepWhateverTheBatch() {
        SimulatedEngine one = open(EngineFixtures.config(), null);
        SimulatedEngine two = open(EngineFixtures.config(), null);
        SimulatedEngine otherSeed = open(EngineFixtures.config().withSeed(8), null);

        int[] alone = one.generate(List.of(task("req-1", null, 4, 16))).getFirst().tokenIds();
        int[] inABatch = two.generate(List.of(task("x", null, 8, 3), task("req-1", "a0", 4, 16), task("y", null, 4, 20))).get(1).tokenIds();
        int[] otherId = one.generate(List.of(task("req-2", null, 4, 16))).getFirst().tokenIds();
        int[] seeded = otherSeed.generate(List.of(task("req-1", null, 4, 16))).getFirst().tokenIds();

        assertThat(inABatch).containsExactly(alone);
        assertThat(otherId).isNotEqualTo(alone);
        assertThat(seeded).isNotEqualTo(alone);
        assertThat(Arrays.stream(alone).distinct().count()).isGreaterThan(8);
        assertThat(Arrays.stream(alone).boxed().toList()).allSatisfy(t -> assertThat(t).isBetween(SimTokenizer.FIRST_WORD_ID, 999));
        assertThat(SimulatedEngine.token(7L, "req-1", 0, 1000)).isEqualTo(alone[0]);
        assertThat(SimulatedEngine.token(7L, "req-1", 15, 1000)).isEqualTo(alone[15]);
    }
}
