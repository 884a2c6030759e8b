package dev.lorastream.engine.onnx;

import dev.lorastream.engine.scheduler.Sampler;
import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.TestModels.Adapter;
import dev.lorastream.engine.TestModels.Backbone;
import dev.lorastream.engine.demo.RandomModels.BackboneSpec;
import dev.lorastream.engine.reference.ReferenceDecoder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The ONNX engine against the independent plain-Java reference, with and without adapters. */
class EngineReferenceTest {
    private static final double TOLERANCE = 1e-4;
    private static final int NEW_TOKENS = 6;

    @TempDir
    Path tmp;

    static Stream<BackboneSpec> backbones() {
        return Stream.of(TestModels.llama(), TestModels.qwen2(), TestModels.mistralWithBias());
    }

    private record Setup(Backbone backbone, Map<String, Adapter> adapters, OnnxLoraEngine engine) {}

    private Setup setup(BackboneSpec spec) throws Exception {
        Backbone b = TestModels.writeBackbone(tmp.resolve("backbone"), spec, 7);
        Path adaptersDir = tmp.resolve("adapters");
        Map<String, Adapter> adapters = TestModels.referenceAdapters(adaptersDir, b);
        OnnxLoraEngine engine = OnnxLoraEngine.open(new EngineConfig(b.dir(), adaptersDir, "cpu", 8));
        assertThat(engine.failedAdapters()).isEmpty();
        assertThat(engine.adapterIds()).containsExactlyInAnyOrder("alpha", "beta", "gamma");
        return new Setup(b, adapters, engine);
    }

    private static List<GenerationTask> mixedBatch() {
        return List.of(
                TestModels.greedy("base", null, TestModels.prompt(1, 7), NEW_TOKENS),
                TestModels.greedy("alpha-short", "alpha", TestModels.prompt(2, 3), NEW_TOKENS),
                TestModels.greedy("beta", "beta", TestModels.prompt(3, 11), NEW_TOKENS),
                TestModels.greedy("gamma", "gamma", TestModels.prompt(4, 5), NEW_TOKENS),
                TestModels.greedy("alpha-long", "alpha", TestModels.prompt(5, 9), NEW_TOKENS - 2));
    }

    @ParameterizedTest
    @MethodSource("backbones")
    void logitsAndGreedyTokensMatchTheReferenceForEveryRowOfAMixedBatch(BackboneSpec spec) throws Exception {
        Setup s = setup(spec);
        try (OnnxLoraEngine engine = s.engine()) {
            List<GenerationTask> batch = mixedBatch();
            Map<Integer, List<float[]>> seen = new HashMap<>();

            List<Generation> out = engine.generate(batch, (row, step, logits) -> {
                List<float[]> steps = seen.computeIfAbsent(row, k -> new ArrayList<>());
                assertThat(steps).hasSize(step);
                steps.add(logits.clone());
            });

            for (int row = 0; row < batch.size(); row++) {
                GenerationTask task = batch.get(row);
                Generation g = out.get(row);
                assertThat(g.requestId()).isEqualTo(task.requestId());
                assertThat(g.tokenIds()).hasSize(task.maxNewTokens());
                assertThat(g.finishReason()).isEqualTo("length");
                ReferenceDecoder ref = s.backbone().reference(task.adapterId() == null ? null : s.adapters().get(task.adapterId()));
                for (int step = 0; step < task.maxNewTokens(); step++) {
                    int[] context = TestModels.concat(task.promptIds(), Arrays.copyOf(g.tokenIds(), step));
                    float[] expected = ref.lastLogits(context);
                    float[] actual = seen.get(row).get(step);
                    assertThat(TestModels.maxAbsDiff(expected, actual)).as("%s row %s step %d", spec.modelType(), task.requestId(), step).isLessThan(TOLERANCE);
                    assertThat(g.tokenIds()[step]).as("%s row %s step %d token", spec.modelType(), task.requestId(), step)
                            .isEqualTo(Sampler.argmax(expected));
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backbones")
    void eachRowOfAMixedBatchGetsTheTokensItGetsAlone(BackboneSpec spec) throws Exception {
        Setup s = setup(spec);
        try (OnnxLoraEngine engine = s.engine()) {
            List<GenerationTask> batch = new ArrayList<>(mixedBatch());
            batch.add(new GenerationTask("sampled", "gamma", TestModels.prompt(6, 4), 8, 0.9f, 0.95f, 10, 42L, true));

            List<Generation> together = engine.generate(batch);

            for (int row = 0; row < batch.size(); row++) {
                Generation alone = engine.generate(List.of(batch.get(row))).getFirst();
                assertThat(together.get(row).tokenIds()).as(batch.get(row).requestId()).isEqualTo(alone.tokenIds());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backbones")
    void adaptersChangeTheLogitsOfTheSamePrompt(BackboneSpec spec) throws Exception {
        Setup s = setup(spec);
        try (OnnxLoraEngine engine = s.engine()) {
            int[] p = TestModels.prompt(9, 6);
            Map<String, float[]> first = new HashMap<>();
            List<GenerationTask> batch = new ArrayList<>();
            for (String id : Arrays.asList(null, "alpha", "beta", "gamma")) batch.add(TestModels.greedy(String.valueOf(id), id, p, 1));

            engine.generate(batch, (row, step, logits) -> first.put(batch.get(row).requestId(), logits.clone()));

            for (String id : List.of("alpha", "beta", "gamma")) {
                assertThat(TestModels.maxAbsDiff(first.get("null"), first.get(id))).as(id).isGreaterThan(0.05);
            }
        }
    }
}
