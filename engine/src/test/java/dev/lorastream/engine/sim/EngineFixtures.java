package dev.lorastream.engine.sim;

import dev.lorastream.engine.GenerationTask;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.fail;

/** A tiny cost model (passes of a few ms), small configurations, tasks, a pass log and a poll-until. */
final class EngineFixtures {
    private EngineFixtures() {}

    static final long MEMORY = 1L << 40, WEIGHTS = 1_000_000, SLOT = 10_000, KV_PER_TOKEN = 100;
    static final double HOST_TO_DEVICE_MS = 20, STORE_TO_HOST_MS = 60;

    /**
     * Decode, backbone: 1 row 2 ms, 2 rows 3, 4 rows 5, 8 rows 9; every row its own adapter: 2, 4, 7, 13.
     * Prefill: 4 tokens or fewer 1 ms, 40 tokens 4 ms, linear between (and beyond).
     */
    static CostModel tiny() {
        return new CostModel("test-tiny", List.of(1, 2, 4, 8), List.of(2.0, 3.0, 5.0, 9.0), List.of(2.0, 4.0, 7.0, 13.0), List.of(4, 40),
                List.of(1.0, 4.0), HOST_TO_DEVICE_MS, STORE_TO_HOST_MS, MEMORY, WEIGHTS, SLOT, KV_PER_TOKEN);
    }

    /** Adapters a0..a5 (a0 and a1 in host memory at open), 4 rows, 2 device slots, 2 host slots, vocabulary 1,000, sequences of 256. */
    static SimConfig config() {
        return new SimConfig("sim:test-model", SimConfig.numbered(6, "a%d"), 4, 2, 2, 2, 1000, 256, 0, 1.0, 7L, tiny());
    }

    static GenerationTask task(String id, String adapter, int promptTokens, int maxNew) {
        int[] prompt = new int[promptTokens];
        Arrays.fill(prompt, 300);
        prompt[0] = SimTokenizer.BOS;
        return new GenerationTask(id, adapter, prompt, maxNew, 0f, 1f, 0, null, true);
    }

    /** Every pass an engine reports, in order. */
    static final class PassLog implements Consumer<SimPass> {
        final List<SimPass> passes = new CopyOnWriteArrayList<>();

        @Override
        public void accept(SimPass p) { passes.add(p); }

        List<SimPass> of(String requestId) {
            return passes.stream().filter(p -> p.requestIds().contains(requestId)).toList();
        }

        SimPass first(String requestId) {
            return of(requestId).getFirst();
        }

        SimPass last(String requestId) {
            return of(requestId).getLast();
        }

        long decodesOf(String requestId) {
            return of(requestId).stream().filter(p -> p.kind() == SimPass.Kind.DECODE).count();
        }
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting for: " + what);
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted waiting for: " + what);
            }
        }
    }
}
