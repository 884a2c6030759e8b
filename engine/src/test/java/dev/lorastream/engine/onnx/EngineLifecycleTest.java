package dev.lorastream.engine.onnx;

import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.demo.RandomModels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class EngineLifecycleTest {
    @TempDir
    Path tmp;
    private TestModels.Backbone backbone;
    private Path adapters;

    @BeforeEach
    void setUp() throws Exception {
        backbone = TestModels.writeBackbone(tmp.resolve("backbone"), TestModels.llama(), 3);
        adapters = tmp.resolve("adapters");
        TestModels.writeAdapter(adapters, "good", backbone, TestModels.lora(List.of("q_proj", "v_proj"), 4, 8, false, backbone, 0.3), 1);
    }

    private OnnxLoraEngine open(int maxBatch) {
        return OnnxLoraEngine.open(new EngineConfig(backbone.dir(), adapters, "cpu", maxBatch));
    }

    @Test
    void anAdapterThatFailsToLoadIsRememberedAndRequestsForItFailWithTheLoadsReason() throws Exception {
        Path dora = TestModels.writeAdapter(adapters, "dora", backbone, TestModels.lora(List.of("q_proj"), 4, 8, false, backbone, 0.3), 2).dir();
        Map<String, Object> config = new LinkedHashMap<>(TestModels.lora(List.of("q_proj"), 4, 8, false, backbone, 0.3).configJson());
        config.put("use_dora", true);
        TestModels.writeJson(dora.resolve("adapter_config.json"), config);

        try (OnnxLoraEngine engine = open(4)) {
            InvalidTaskException e = catchThrowableOfType(InvalidTaskException.class,
                    () -> engine.validate(TestModels.greedy("r", "dora", new int[] {1, 5}, 2)));

            assertThat(engine.adapterIds()).containsExactly("dora", "good");
            assertThat(engine.failedAdapters()).containsOnlyKeys("dora");
            assertThat(e.code()).isEqualTo("ADAPTER_LOAD_FAILED");
            assertThat(e.field()).isEqualTo("adapter_id");
            assertThat(e.getMessage()).contains("adapter 'dora' failed to load").contains("use_dora");
        }
    }

    /** A checkpoint as a new user finds one: config.json without _name_or_path, so the backbone's name is its directory's. */
    @Test
    void aCheckpointWithoutNameOrPathLoadsAndTakesAdaptersNamingItsDirectory() throws Exception {
        Path dir = tmp.resolve("plain-llama");
        TestModels.Backbone b = TestModels.writeBackbone(dir, TestModels.llama(), 5);
        Map<String, Object> config = new LinkedHashMap<>(b.spec().configJson());
        config.remove("_name_or_path");
        TestModels.writeJson(dir.resolve("config.json"), config);
        Path store = tmp.resolve("plain-adapters");
        RandomModels.LoraSpec spec = new RandomModels.LoraSpec(List.of("q_proj"), 4, 8, false, "plain-llama", 0.3);
        TestModels.writeAdapter(store, "mine", b, spec, 9);

        try (OnnxLoraEngine engine = OnnxLoraEngine.open(new EngineConfig(dir, store, "cpu", 2))) {
            assertThat(engine.modelConfig().name()).isEqualTo("plain-llama");
            assertThat(engine.failedAdapters()).isEmpty();
            assertThat(engine.generate(List.of(TestModels.greedy("r", "mine", new int[] {1, 5, 7}, 3))).getFirst().tokenIds()).hasSize(3);
        }
    }

    @Test
    void reloadReportsAChangeOnlyWhenTheStoresAdaptersChange() throws Exception {
        try (OnnxLoraEngine engine = open(4)) {
            assertThat(engine.reloadAdapters()).isFalse();

            // within the bank's shape, fixed at open from "good" (q_proj, v_proj at rank 4)
            TestModels.writeAdapter(adapters, "late", backbone, TestModels.lora(List.of("q_proj", "v_proj"), 2, 4, false, backbone, 0.3), 3);

            assertThat(engine.reloadAdapters()).isTrue();
            assertThat(engine.adapterIds()).containsExactly("good", "late");
            engine.validate(TestModels.greedy("r", "late", new int[] {1, 5}, 2));
            assertThat(engine.generate(List.of(TestModels.greedy("r", "late", new int[] {1, 5}, 3))).getFirst().tokenIds()).hasSize(3);
        }
    }

    @Test
    void reloadForgetsAnAdapterWhoseFilesChangedAndRetriesOneThatWasFixed() throws Exception {
        RandomModels.LoraSpec spec = TestModels.lora(List.of("q_proj"), 4, 8, false, backbone, 0.3);
        Path fixable = TestModels.writeAdapter(adapters, "fixable", backbone, spec, 4).dir();
        TestModels.writeJson(fixable.resolve("adapter_config.json"), Map.of("peft_type", "PROMPT_TUNING"));
        try (OnnxLoraEngine engine = open(4)) {
            String before = engine.adapterVersion("good");
            assertThat(engine.failedAdapters()).containsOnlyKeys("fixable");

            TestModels.writeAdapter(adapters, "good", backbone, TestModels.lora(List.of("q_proj", "v_proj"), 4, 8, false, backbone, 0.3), 99);
            TestModels.writeJson(fixable.resolve("adapter_config.json"), spec.configJson());

            assertThat(engine.reloadAdapters()).isTrue();
            assertThat(engine.adapterVersion("good")).startsWith("sha256:").isNotEqualTo(before);
            assertThat(engine.failedAdapters()).isEmpty();
            engine.validate(TestModels.greedy("r", "fixable", new int[] {1, 5}, 2));
        }
    }

    /** What a worker does per catalog record: one adapter rescanned, replaced (a new version served) or removed (refused). */
    @Test
    void reloadingOneAdapterReplacesOrRemovesItWithoutTheOthers() throws Exception {
        try (OnnxLoraEngine engine = open(4)) {
            String before = engine.adapterVersion("good");
            engine.generate(List.of(TestModels.greedy("warm", "good", new int[] {1, 5}, 2))); // on the device now
            assertThat(engine.reloadAdapter("good")).as("unchanged files").isFalse();

            TestModels.writeAdapter(adapters, "good", backbone, TestModels.lora(List.of("q_proj", "v_proj"), 4, 8, false, backbone, 0.3), 77);
            assertThat(engine.reloadAdapter("good")).isTrue();
            assertThat(engine.adapterVersion("good")).isNotEqualTo(before);
            assertThat(engine.generate(List.of(TestModels.greedy("r", "good", new int[] {1, 5}, 3))).getFirst().tokenIds()).hasSize(3);

            try (var files = java.nio.file.Files.walk(adapters.resolve("good"))) {
                for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) java.nio.file.Files.delete(f);
            }
            assertThat(engine.reloadAdapter("good")).isTrue();
            assertThat(engine.residentAdapterIds()).doesNotContain("good");
            assertThatThrownBy(() -> engine.validate(TestModels.greedy("r", "good", new int[] {1, 5}, 2)))
                    .isInstanceOf(InvalidTaskException.class).hasMessageContaining("not in the adapter store");
        }
    }

    @Test
    void batchesLargerThanMaxBatchSizeRunInSeveralPassesWithTheSameTokens() {
        List<GenerationTask> batch = new ArrayList<>();
        for (int i = 0; i < 5; i++) batch.add(TestModels.greedy("r" + i, i % 2 == 0 ? "good" : null, new int[] {1, 10 + i, 20 + 2 * i}, 4));
        List<Generation> wide, narrow;
        Path graphA, graphB;
        try (OnnxLoraEngine engine = open(8)) {
            wide = engine.generate(batch);
            graphA = engine.status().graphPath();
        }
        try (OnnxLoraEngine engine = open(2)) {
            narrow = engine.generate(batch);
            graphB = engine.status().graphPath();
        }

        assertThat(graphB).isEqualTo(graphA);
        for (int i = 0; i < batch.size(); i++) {
            assertThat(narrow.get(i).requestId()).isEqualTo("r" + i);
            assertThat(narrow.get(i).tokenIds()).isEqualTo(wide.get(i).tokenIds());
        }
    }

    private static final int[] PROBE_PROMPT = {1, 30, 31, 32, 33};

    /** Six greedy tokens after the probe prompt, end of sequence ignored. */
    private int[] freeTokens() {
        try (OnnxLoraEngine engine = open(4)) {
            return engine.generate(List.of(TestModels.greedy("probe", null, PROBE_PROMPT, 6))).getFirst().tokenIds();
        }
    }

    @Test
    void generationStopsAtEosUnlessIgnoreEosIsSet() throws Exception {
        int[] prompt = PROBE_PROMPT;
        int[] free = freeTokens();
        int eos = free[2];
        int stop = 0;
        while (free[stop] != eos) stop++;
        Map<String, Object> config = new LinkedHashMap<>(backbone.spec().configJson());
        config.put("eos_token_id", eos);
        TestModels.writeJson(backbone.dir().resolve("config.json"), config);

        try (OnnxLoraEngine engine = open(4)) {
            Generation stopped = engine.generate(List.of(new GenerationTask("a", null, prompt, 6, 0f, 1f, 0, null, false))).getFirst();
            Generation ignored = engine.generate(List.of(new GenerationTask("b", null, prompt, 6, 0f, 1f, 0, null, true))).getFirst();

            assertThat(stopped.finishReason()).isEqualTo("eos");
            assertThat(stopped.tokenIds()).containsExactly(java.util.Arrays.copyOf(free, stop));
            assertThat(ignored.finishReason()).isEqualTo("length");
            assertThat(ignored.tokenIds()).containsExactly(free);
        }
    }

    @Test
    void generationAlsoStopsAtTheExtraStopIdsOfGenerationConfig() throws Exception {
        int[] prompt = PROBE_PROMPT;
        int[] free = freeTokens();
        int configEos = backbone.spec().eosId(), endOfTurn = free[2];
        int stop = 0;
        while (free[stop] != configEos && free[stop] != endOfTurn) stop++;
        // an instruct model: config.json names end of text, generation_config.json adds end of turn
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String special : List.of("<pad>", "<s>", "</s>", "<unk>")) vocab.put(special, vocab.size());
        while (vocab.size() < backbone.spec().vocab()) vocab.put("w" + vocab.size(), vocab.size());
        List<Map<String, Object>> added = new ArrayList<>();
        for (String special : List.of("<pad>", "<s>", "</s>", "<unk>")) {
            added.add(Map.of("id", vocab.get(special), "content", special, "single_word", false, "lstrip", false, "rstrip", false,
                    "normalized", false, "special", true));
        }
        Map<String, Object> tokenizer = new LinkedHashMap<>();
        tokenizer.put("version", "1.0");
        tokenizer.put("added_tokens", added);
        tokenizer.put("pre_tokenizer", Map.of("type", "Whitespace"));
        tokenizer.put("model", Map.of("type", "WordLevel", "vocab", vocab, "unk_token", "<unk>"));
        TestModels.writeJson(backbone.dir().resolve("tokenizer.json"), tokenizer);
        TestModels.writeJson(backbone.dir().resolve("generation_config.json"), Map.of("eos_token_id", List.of(configEos, endOfTurn)));

        try (OnnxLoraEngine engine = open(4)) {
            Generation stopped = engine.generate(List.of(new GenerationTask("a", null, prompt, 6, 0f, 1f, 0, null, false))).getFirst();

            assertThat(stopped.finishReason()).isEqualTo("eos");
            assertThat(stopped.tokenIds()).containsExactly(java.util.Arrays.copyOf(free, stop));
        }
    }

    @Test
    void computeTimeIsSharedAmongTheRowsOfABatch() {
        try (OnnxLoraEngine engine = open(4)) {
            List<Generation> out = engine.generate(List.of(
                    TestModels.greedy("long", "good", new int[] {1, 5, 6, 7}, 12),
                    TestModels.greedy("short", null, new int[] {1, 5}, 1)));

            Generation longRow = out.get(0), shortRow = out.get(1);
            assertThat(shortRow.computeMs()).isPositive();
            assertThat(longRow.computeMs()).isGreaterThan(shortRow.computeMs());
            assertThat(shortRow.decodeMs()).isZero();
            assertThat(longRow.tokenIds()).hasSize(12);
        }
    }

    @Test
    void theBackboneHasAVersionAndNoContributors() {
        try (OnnxLoraEngine engine = open(4)) {
            assertThat(engine.adapterVersion(null)).startsWith("sha256:");
            assertThat(engine.adapterVersion("good")).startsWith("sha256:");
            assertThat(engine.contributors(null)).isEmpty();
            assertThat(engine.contributors("good")).isEmpty();
        }
    }

    /** What placement reads: slots, rows, KV tokens, tiers, tokens generated, memory; measured while a batch runs and after. */
    @Test
    void theLoadReportFollowsTheBatchAndTheTiers() throws Exception {
        try (OnnxLoraEngine engine = open(2)) {
            dev.lorastream.engine.EngineLoad before = engine.load();
            assertThat(before.maxRows()).isEqualTo(2);
            assertThat(before.bankSlots()).isEqualTo(engine.status().bank().slots() - 1);
            assertThat(before.bankSlotsUsed()).isZero();
            assertThat(before.deviceAdapters()).isEmpty();
            assertThat(before.hostAdapters()).containsExactly("good");
            assertThat(before.kvTokensCapacity()).isEqualTo(2L * engine.graphChoice().capacity());
            assertThat(before.memoryTotalBytes()).isPositive();
            assertThat(before.memoryFreeBytes()).isBetween(0L, before.memoryTotalBytes());
            assertThat(before.simulated()).isFalse();
            List<long[]> during = new ArrayList<>();
            List<GenerationTask> tasks = List.of(TestModels.greedy("a", "good", TestModels.prompt(1, 5), 6), TestModels.greedy("b", null, TestModels.prompt(2, 3), 6));
            engine.generate(tasks, (row, step, logits) -> {
                if (step == 3 && row == 0) {
                    dev.lorastream.engine.EngineLoad l = engine.load();
                    during.add(new long[] {l.running(), l.kvTokensUsed(), l.bankSlotsUsed()});
                }
            });
            assertThat(during).hasSize(1);
            assertThat(during.getFirst()[0]).as("rows running mid-batch").isEqualTo(2);
            assertThat(during.getFirst()[1]).as("KV tokens held after step 2: prompts 5 and 3 plus 2 tokens each").isEqualTo(5 + 3 + 2 * 2);
            assertThat(during.getFirst()[2]).as("the adapter's slot").isEqualTo(1);
            dev.lorastream.engine.EngineLoad after = engine.load();
            assertThat(after.running()).isZero();
            assertThat(after.kvTokensUsed()).isZero();
            assertThat(after.generatedTokens() - before.generatedTokens()).isEqualTo(12);
            assertThat(after.deviceAdapters()).containsExactly("good");
        }
    }
}
