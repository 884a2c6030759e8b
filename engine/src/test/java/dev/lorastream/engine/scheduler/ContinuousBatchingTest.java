package dev.lorastream.engine.scheduler;

import dev.lorastream.engine.onnx.OnnxLoraEngine;
import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.adapters.cache.AdapterLoadException;
import dev.lorastream.engine.adapters.cache.AdapterMetrics;
import dev.lorastream.engine.adapters.cache.CacheConfig;
import dev.lorastream.engine.adapters.cache.Tier;
import dev.lorastream.engine.adapters.AdapterBank;
import dev.lorastream.engine.model.ModelConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Requests joining and leaving the running batch, and a device tier smaller than the working set. */
class ContinuousBatchingTest {
    private static final List<String> ADAPTERS = List.of("a0", "a1", "a2", "a3", "a4");

    @TempDir
    Path tmp;
    private TestModels.Backbone backbone;
    private Path adapters;

    @BeforeEach
    void setUp() throws Exception {
        backbone = TestModels.writeBackbone(tmp.resolve("backbone"), TestModels.llama(), 5);
        adapters = tmp.resolve("adapters");
        for (int i = 0; i < ADAPTERS.size(); i++) {
            List<String> targets = i % 2 == 0 ? TestModels.ALL : List.of("q_proj", "k_proj", "v_proj", "o_proj");
            TestModels.writeAdapter(adapters, ADAPTERS.get(i), backbone, TestModels.lora(targets, 2 + 2 * i, 8, i == 3, backbone, 0.3), 40 + i);
        }
    }

    private OnnxLoraEngine open(int maxBatch, CacheConfig cache) {
        return OnnxLoraEngine.open(new EngineConfig(backbone.dir(), adapters, "cpu", maxBatch), cache);
    }

    private long slotBytes() {
        return AdapterBank.slotBytes(ModelConfig.read(backbone.dir()), EngineConfig.DEFAULT_MAX_LORA_RANK);
    }

    /** Each task generated alone, on an engine whose device tier holds every adapter. */
    private Map<String, int[]> soloTokens(List<GenerationTask> tasks) {
        Map<String, int[]> solo = new HashMap<>();
        try (OnnxLoraEngine roomy = open(1, CacheConfig.DEFAULT)) {
            for (GenerationTask t : tasks) solo.put(t.requestId(), roomy.generate(List.of(t)).getFirst().tokenIds());
        }
        return solo;
    }

    @Test
    void requestsThatJoinWhileOthersAreDecodingGetExactlyTheirSoloTokens() {
        GenerationTask a = TestModels.greedy("a", "a0", TestModels.prompt(1, 5), 10);
        GenerationTask b = TestModels.greedy("b", null, TestModels.prompt(2, 9), 5);
        GenerationTask c = TestModels.greedy("c", "a1", TestModels.prompt(3, 3), 6);
        GenerationTask d = TestModels.greedy("d", "a0", TestModels.prompt(4, 20), 4);
        Map<String, int[]> solo = soloTokens(List.of(a, b, c, d));

        try (OnnxLoraEngine engine = open(8, CacheConfig.DEFAULT)) {
            ContinuousBatcher batcher = engine.batcher();
            Map<String, CompletableFuture<Generation>> out = new LinkedHashMap<>();
            out.put("a", batcher.submit(a));
            out.put("b", batcher.submit(b));
            for (int i = 0; i < 3; i++) assertThat(batcher.step()).isTrue();
            assertThat(batcher.runningCount()).isEqualTo(2);

            out.put("c", batcher.submit(c));
            batcher.step();
            assertThat(batcher.runningCount()).isEqualTo(3);
            out.put("d", batcher.submit(d));
            batcher.step();
            assertThat(batcher.runningCount()).as("b left after its 5th token as d joined with a longer prompt").isEqualTo(3);
            assertThat(out.get("b")).isDone();
            for (int i = 0; i < 20 && !out.values().stream().allMatch(CompletableFuture::isDone); i++) batcher.step();

            for (Map.Entry<String, CompletableFuture<Generation>> e : out.entrySet()) {
                assertThat(e.getValue().join().tokenIds()).as(e.getKey()).isEqualTo(solo.get(e.getKey()));
            }
            assertThat(batcher.runningCount()).isZero();
            assertThat(batcher.step()).as("nothing left to run").isFalse();
        }
    }

    @Test
    void aTokenListenerCanEndTheGenerationAfterAToken() {
        GenerationTask a = TestModels.greedy("a", "a0", TestModels.prompt(1, 5), 10);
        Map<String, int[]> solo = soloTokens(List.of(a));
        try (OnnxLoraEngine engine = open(8, CacheConfig.DEFAULT)) {
            ContinuousBatcher batcher = engine.batcher();
            CompletableFuture<Generation> f = batcher.submit(a, new dev.lorastream.engine.TokenListener() {
                int seen;

                @Override public void onToken(int index, int tokenId) { seen = index + 1; }

                @Override public boolean stopHere() { return seen == 3; }
            });
            while (!f.isDone()) batcher.step();
            assertThat(f.join().finishReason()).isEqualTo("stop");
            assertThat(f.join().tokenIds()).containsExactly(java.util.Arrays.copyOf(solo.get("a"), 3));
        }
    }

    @Test
    void aTokenListenerIsToldEachTokenAsItsStepTakesItAndAThrowingOneStopsNothing() {
        GenerationTask a = TestModels.greedy("a", "a0", TestModels.prompt(1, 5), 6);
        GenerationTask b = TestModels.greedy("b", null, TestModels.prompt(2, 9), 4);
        Map<String, int[]> solo = soloTokens(List.of(a, b));
        try (OnnxLoraEngine engine = open(8, CacheConfig.DEFAULT)) {
            ContinuousBatcher batcher = engine.batcher();
            List<int[]> told = new ArrayList<>();
            CompletableFuture<Generation> fa = batcher.submit(a, (index, token) -> told.add(new int[] {index, token}));
            CompletableFuture<Generation> fb = batcher.submit(b, (index, token) -> { throw new IllegalStateException("listener broke"); });
            batcher.step();
            assertThat(told).as("after the prefill step").hasSize(1);
            batcher.step();
            assertThat(told).as("after one decode step").hasSize(2);
            while (!(fa.isDone() && fb.isDone())) batcher.step();
            assertThat(told.stream().mapToInt(t -> t[0]).toArray()).containsExactly(0, 1, 2, 3, 4, 5);
            assertThat(told.stream().mapToInt(t -> t[1]).toArray()).containsExactly(fa.join().tokenIds()).containsExactly(solo.get("a"));
            assertThat(fb.join().tokenIds()).containsExactly(solo.get("b"));
        }
    }

    @Test
    void stepListenersSeeEveryTokenOfEveryRequestStepByStep() {
        GenerationTask a = TestModels.greedy("a", "a0", TestModels.prompt(1, 5), 4);
        GenerationTask b = TestModels.greedy("b", null, TestModels.prompt(2, 9), 2);
        try (OnnxLoraEngine engine = open(8, CacheConfig.DEFAULT)) {
            ContinuousBatcher batcher = engine.batcher();
            List<ContinuousBatcher.Step> steps = new java.util.ArrayList<>();
            java.util.function.Consumer<ContinuousBatcher.Step> listener = steps::add;
            batcher.addStepListener(listener);
            CompletableFuture<Generation> fa = batcher.submit(a);
            batcher.step();
            CompletableFuture<Generation> fb = batcher.submit(b);
            while (!(fa.isDone() && fb.isDone())) batcher.step();
            assertThat(batcher.step()).isFalse();
            assertThat(steps).extracting(ContinuousBatcher.Step::number).containsExactly(1L, 2L, 3L, 4L);
            assertThat(steps).extracting(ContinuousBatcher.Step::prefilled).containsExactly(List.of("a"), List.of("b"), List.of(), List.of());
            assertThat(steps).extracting(ContinuousBatcher.Step::decoded).containsExactly(List.of(), List.of("a"), List.of("a", "b"), List.of("a"));
            assertThat(steps.get(3).endNanos()).isGreaterThan(steps.get(0).endNanos());
            batcher.removeStepListener(listener);
            batcher.submit(TestModels.greedy("c", null, TestModels.prompt(3, 4), 1));
            batcher.step();
            assertThat(steps).as("removed: no longer called").hasSize(4);
        }
    }

    @Test
    void aDeviceTierOfTwoSlotsServesFiveAdaptersWithEachRowsSoloTokens() {
        List<GenerationTask> batch = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            String adapter = i % 6 == 5 ? null : ADAPTERS.get((i * 3) % 5);
            batch.add(TestModels.greedy("r" + i, adapter, TestModels.prompt(10 + i, 3 + (i * 5) % 9), 3 + i % 4));
        }
        Map<String, int[]> solo = soloTokens(batch);
        long slot = slotBytes();

        try (OnnxLoraEngine engine = open(8, CacheConfig.ofBytes(2 * slot, 3 * slot))) {
            AtomicInteger mostAdaptersAtOnce = new AtomicInteger();
            List<Generation> out = engine.generate(batch, (row, step, logits) -> {
                int inUse = engine.status().cache().inUse().size();
                mostAdaptersAtOnce.accumulateAndGet(inUse, Math::max);
            });

            for (int i = 0; i < batch.size(); i++) {
                assertThat(out.get(i).tokenIds()).as(batch.get(i).requestId()).isEqualTo(solo.get(batch.get(i).requestId()));
            }
            AdapterMetrics m = engine.metrics();
            assertThat(mostAdaptersAtOnce.get()).isEqualTo(2);
            assertThat(ADAPTERS.stream().mapToLong(id -> m.evictions(Tier.DEVICE, id)).sum()).isGreaterThanOrEqualTo(3);
            assertThat(engine.status().cache().deviceResident()).hasSize(2);
            for (String id : ADAPTERS) {
                assertThat(m.running(id)).isZero();
                assertThat(m.waiting(id)).isZero();
                assertThat(m.misses(Tier.DEVICE, id)).isPositive();
            }
            assertThat(engine.prometheusText()).contains("lorastream_adapter_cache_evictions_total{adapter=\"a0\",tier=\"device\"}");
        }
    }

    @Test
    void anAdapterThatFailsToLoadOnDemandFailsItsRequestsWithTheLoadsReasonAndIsReadOnce() throws Exception {
        Path broken = TestModels.writeAdapter(adapters, "zz-broken", backbone, TestModels.lora(List.of("q_proj"), 4, 8, false, backbone, 0.3), 9).dir();
        Map<String, Object> config = new LinkedHashMap<>(TestModels.lora(List.of("q_proj"), 4, 8, false, backbone, 0.3).configJson());
        config.put("use_dora", true);
        TestModels.writeJson(broken.resolve("adapter_config.json"), config);
        long slot = slotBytes();

        try (OnnxLoraEngine engine = open(4, CacheConfig.ofBytes(slot, slot))) {
            assertThat(engine.failedAdapters()).as("warm-up stopped before it").isEmpty();
            GenerationTask task = TestModels.greedy("x1", "zz-broken", TestModels.prompt(1, 4), 3);

            CompletionException first = catchThrowableOfType(CompletionException.class, () -> engine.submit(task).join());
            CompletableFuture<Generation> again = engine.submit(TestModels.greedy("x2", "zz-broken", TestModels.prompt(1, 4), 3));
            InvalidTaskException validated = catchThrowableOfType(InvalidTaskException.class, () -> engine.validate(task));

            assertThat(first.getCause()).isInstanceOf(AdapterLoadException.class).hasMessageContaining("adapter 'zz-broken' failed to load")
                    .hasMessageContaining("use_dora");
            assertThat(again).isCompletedExceptionally();
            InvalidTaskException fast = catchThrowableOfType(CompletionException.class, again::join).getCause() instanceof InvalidTaskException i ? i : null;
            assertThat(fast).isNotNull();
            assertThat(fast.code()).isEqualTo("ADAPTER_LOAD_FAILED");
            assertThat(fast.field()).isEqualTo("adapter_id");
            assertThat(fast.getMessage()).isEqualTo(first.getCause().getMessage());
            assertThat(validated.code()).isEqualTo("ADAPTER_LOAD_FAILED");
            assertThat(engine.metrics().loads("zz-broken")).isEqualTo(1);
            assertThat(engine.generate(List.of(TestModels.greedy("ok", "a4", TestModels.prompt(2, 4), 2))).getFirst().tokenIds()).hasSize(2);
        }
    }

    @Test
    void requestsSubmittedFromManyThreadsToTheBatchersLoopGetTheirSoloTokens() throws Exception {
        List<GenerationTask> tasks = new ArrayList<>();
        for (int i = 0; i < 8; i++) tasks.add(TestModels.greedy("t" + i, i == 7 ? null : ADAPTERS.get(i % 5), TestModels.prompt(30 + i, 2 + i), 2 + i % 5));
        Map<String, int[]> solo = soloTokens(tasks);
        long slot = slotBytes();
        ExecutorService clients = Executors.newFixedThreadPool(4);

        try (OnnxLoraEngine engine = open(3, CacheConfig.ofBytes(3 * slot, 3 * slot))) {
            List<CompletableFuture<Generation>> out = new ArrayList<>();
            for (GenerationTask t : tasks) out.add(CompletableFuture.supplyAsync(() -> engine.submit(t), clients).thenCompose(f -> f));

            for (int i = 0; i < tasks.size(); i++) assertThat(out.get(i).join().tokenIds()).as(tasks.get(i).requestId()).isEqualTo(solo.get(tasks.get(i).requestId()));
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void aPromptTooLongForTheModelIsRefusedNotTruncated() {
        try (OnnxLoraEngine engine = open(4, CacheConfig.DEFAULT)) {
            int max = engine.model().maxSequenceLength();
            CompletableFuture<Generation> tooLong = engine.batcher().submit(TestModels.greedy("long", "a0", TestModels.prompt(1, max), 1));
            CompletableFuture<Generation> unknown = engine.batcher().submit(TestModels.greedy("who", "nobody", TestModels.prompt(1, 3), 1));

            InvalidTaskException e = (InvalidTaskException) catchThrowableOfType(CompletionException.class, tooLong::join).getCause();
            InvalidTaskException u = (InvalidTaskException) catchThrowableOfType(CompletionException.class, unknown::join).getCause();

            assertThat(e.code()).isEqualTo("PROMPT_TOO_LONG");
            assertThat(e.getMessage()).contains("prompt of " + max + " tokens plus max_new_tokens 1 exceeds the model's maximum sequence length of " + max);
            assertThat(u.code()).isEqualTo("UNKNOWN_ADAPTER");
            assertThat(engine.batcher().waitingCount()).isZero();
            assertThat(engine.batcher().step()).isFalse();
        }
    }

    @Test
    void closingTheEngineFailsWhatIsStillWaiting() {
        CompletableFuture<Generation> pending;
        try (OnnxLoraEngine engine = open(4, CacheConfig.DEFAULT)) {
            pending = engine.batcher().submit(TestModels.greedy("late", "a1", TestModels.prompt(1, 3), 2));
        }

        assertThat(catchThrowableOfType(CompletionException.class, pending::join).getCause()).hasMessageContaining("closed");
    }
}
