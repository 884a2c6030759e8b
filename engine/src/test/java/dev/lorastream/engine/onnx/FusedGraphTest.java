package dev.lorastream.engine.onnx;

import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.TestModels.Adapter;
import dev.lorastream.engine.TestModels.Backbone;
import dev.lorastream.engine.demo.RandomModels.BackboneSpec;
import dev.lorastream.engine.reference.ReferenceDecoder;
import dev.lorastream.engine.scheduler.Sampler;
import org.junit.jupiter.api.Test;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The fused graph (GroupQueryAttention, static KV cache) in float32 on the CPU against the
 * independent plain-Java reference and against the reference graph: logits within 1e-4 and the
 * same greedy tokens, with and without adapters, in mixed batches, with rows joining mid-flight.
 */
class FusedGraphTest {
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    static Stream<BackboneSpec> backbones() {
        return Stream.of(TestModels.llama16(), TestModels.qwen2_16(), TestModels.mistral16WithBias());
    }

    private record Models(Backbone backbone, Path adapters, Map<String, Adapter> byId) {}

    private Models models(BackboneSpec spec) throws Exception {
        Backbone b = TestModels.writeBackbone(tmp.resolve("backbone"), spec, 7);
        Path dir = tmp.resolve("adapters");
        return new Models(b, dir, TestModels.referenceAdapters(dir, b));
    }

    /** Mixed adapters and lengths; with max batch 2, rows join while others decode. */
    private static List<GenerationTask> workload() {
        return List.of(
                TestModels.greedy("base", null, TestModels.prompt(1, 7), 6),
                TestModels.greedy("alpha-short", "alpha", TestModels.prompt(2, 3), 9),
                TestModels.greedy("beta", "beta", TestModels.prompt(3, 11), 6),
                TestModels.greedy("gamma", "gamma", TestModels.prompt(4, 5), 4),
                TestModels.greedy("alpha-long", "alpha", TestModels.prompt(5, 9), 7));
    }

    private record Run(List<Generation> out, Map<Long, float[]> logits) {}

    private static Run run(OnnxLoraEngine engine, List<GenerationTask> tasks) {
        Map<Long, float[]> logits = new HashMap<>();
        List<Generation> out = engine.generate(tasks, (row, step, l) -> {
            synchronized (logits) {
                logits.put(((long) row << 32) | step, l.clone());
            }
        });
        return new Run(out, logits);
    }

    @ParameterizedTest
    @MethodSource("backbones")
    void fusedLogitsAndGreedyTokensMatchTheReferenceDecoderForEveryRowOfAMixedBatch(BackboneSpec spec) throws Exception {
        Models m = models(spec);
        try (OnnxLoraEngine engine = OnnxLoraEngine.open(new EngineConfig(m.backbone().dir(), m.adapters(), "cpu", 8).withGraph("fused"))) {
            assertThat(engine.graphChoice().fused()).isTrue();
            List<GenerationTask> batch = workload();
            Run r = run(engine, batch);
            for (int row = 0; row < batch.size(); row++) {
                GenerationTask task = batch.get(row);
                Generation g = r.out().get(row);
                assertThat(g.tokenIds()).hasSize(task.maxNewTokens());
                ReferenceDecoder ref = m.backbone().reference(task.adapterId() == null ? null : m.byId().get(task.adapterId()));
                for (int step = 0; step < task.maxNewTokens(); step++) {
                    int[] context = TestModels.concat(task.promptIds(), Arrays.copyOf(g.tokenIds(), step));
                    float[] expected = ref.lastLogits(context);
                    float[] actual = r.logits().get(((long) row << 32) | step);
                    assertThat(TestModels.maxAbsDiff(expected, actual)).as("%s row %s step %d", spec.modelType(), task.requestId(), step).isLessThan(TOLERANCE);
                    assertThat(g.tokenIds()[step]).as("%s row %s step %d token", spec.modelType(), task.requestId(), step).isEqualTo(Sampler.argmax(expected));
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backbones")
    void fusedAndReferenceGraphsGiveTheSameTokensAndLogitsWhenRowsJoinMidFlight(BackboneSpec spec) throws Exception {
        Models m = models(spec);
        EngineConfig config = new EngineConfig(m.backbone().dir(), m.adapters(), "cpu", 2);
        Run reference, fused;
        try (OnnxLoraEngine e = OnnxLoraEngine.open(config.withGraph("reference"))) {
            assertThat(e.graphChoice().fused()).isFalse();
            reference = run(e, workload());
        }
        try (OnnxLoraEngine e = OnnxLoraEngine.open(config)) {
            assertThat(e.graphChoice().fused()).as("auto picks the fused graph on the CPU in fp32").isTrue();
            fused = run(e, workload());
            List<Generation> greedyOnly = e.generate(workload()); // no observer: the graph's argmax alone comes back
            for (int i = 0; i < workload().size(); i++) assertThat(greedyOnly.get(i).tokenIds()).isEqualTo(fused.out().get(i).tokenIds());
        }
        for (int i = 0; i < workload().size(); i++) {
            assertThat(fused.out().get(i).tokenIds()).as(workload().get(i).requestId()).isEqualTo(reference.out().get(i).tokenIds());
        }
        assertThat(fused.logits().keySet()).isEqualTo(reference.logits().keySet());
        for (Long k : reference.logits().keySet()) {
            assertThat(TestModels.maxAbsDiff(reference.logits().get(k), fused.logits().get(k))).as("row %d step %d", k >> 32, k & 0xffffffffL).isLessThan(TOLERANCE);
        }
    }

    @ParameterizedTest
    @MethodSource("backbones")
    void eachRowOfAFusedMixedBatchGetsTheTokensItGetsAlone(BackboneSpec spec) throws Exception {
        Models m = models(spec);
        try (OnnxLoraEngine engine = OnnxLoraEngine.open(new EngineConfig(m.backbone().dir(), m.adapters(), "cpu", 8))) {
            List<GenerationTask> batch = new ArrayList<>(workload());
            batch.add(new GenerationTask("sampled", "gamma", TestModels.prompt(6, 4), 8, 0.9f, 0.95f, 10, 42L, true));
            List<Generation> together = engine.generate(batch);
            for (int row = 0; row < batch.size(); row++) {
                Generation alone = engine.generate(List.of(batch.get(row))).getFirst();
                assertThat(together.get(row).tokenIds()).as(batch.get(row).requestId()).isEqualTo(alone.tokenIds());
            }
        }
    }

    @Test
    void aModelTheFusedGraphCannotTakeRunsTheReferenceAndSaysWhy() throws Exception {
        Backbone b = TestModels.writeBackbone(tmp.resolve("small-heads"), TestModels.llama(), 7);
        try (OnnxLoraEngine e = OnnxLoraEngine.open(new EngineConfig(b.dir(), null, "cpu", 2))) {
            assertThat(e.graphChoice().fused()).isFalse();
            assertThat(e.graphChoice().reason()).contains("head size 8 is not a multiple of 16");
        }
        assertThatThrownBy(() -> OnnxLoraEngine.open(new EngineConfig(b.dir(), null, "cpu", 2).withGraph("fused")))
                .hasMessageContaining("graph 'fused' cannot run here: head size 8 is not a multiple of 16");
    }

    @Test
    void aPromptAndItsTokensMustFitTheStaticCache() throws Exception {
        Models m = models(TestModels.llama16());
        try (OnnxLoraEngine e = OnnxLoraEngine.open(new EngineConfig(m.backbone().dir(), m.adapters(), "cpu", 2).withKvCapacity(16))) {
            assertThat(e.graphChoice().capacity()).isEqualTo(16);
            assertThat(e.generate(List.of(TestModels.greedy("fits", "alpha", TestModels.prompt(1, 10), 6))).getFirst().tokenIds()).hasSize(6);
            assertThatThrownBy(() -> e.generate(List.of(TestModels.greedy("long", "alpha", TestModels.prompt(1, 10), 7))))
                    .hasMessageContaining("PROMPT_TOO_LONG");
        }
    }

    /**
     * Sampling rows of the fused graph get their tokens from its sampling head where it can finish
     * them (8 candidates here, so that many rows cannot and come back to the host) and from the
     * host's sampler otherwise; either way the tokens are those of the same engine sampling every
     * row on the host: same logits, same draws, same order.
     */
    @Test
    void samplingOnTheDeviceGivesTheTokensOfSamplingOnTheHost() throws Exception {
        Models m = models(TestModels.llama16());
        List<GenerationTask> tasks = new ArrayList<>();
        float[][] params = {{1f, 1f, 0}, {0.8f, 0.9f, 0}, {1.2f, 1f, 5}, {0.7f, 0.5f, 0}, {1f, 1f, 20}, {0f, 1f, 0}, {1.5f, 0.95f, 3}, {0.6f, 1f, 0}};
        for (int i = 0; i < params.length; i++) {
            String adapter = i % 3 == 0 ? null : i % 3 == 1 ? "alpha" : "beta";
            tasks.add(new GenerationTask("s" + i, adapter, TestModels.prompt(10 + i, 3 + i % 5), 10, params[i][0], params[i][1], (int) params[i][2],
                    100L + i, true));
        }
        EngineConfig config = new EngineConfig(m.backbone().dir(), m.adapters(), "cpu", 3).withGraph("fused");
        List<Generation> onDevice, onHost;
        dev.lorastream.engine.scheduler.ContinuousBatcher.Stats device, host;
        String before = System.getProperty(dev.lorastream.engine.graph.SamplingHead.PROPERTY);
        try {
            System.setProperty(dev.lorastream.engine.graph.SamplingHead.PROPERTY, "8");
            try (OnnxLoraEngine e = OnnxLoraEngine.open(config)) {
                onDevice = e.generate(tasks);
                device = e.status().scheduler();
            }
            System.setProperty(dev.lorastream.engine.graph.SamplingHead.PROPERTY, "0");
            try (OnnxLoraEngine e = OnnxLoraEngine.open(config)) {
                onHost = e.generate(tasks);
                host = e.status().scheduler();
            }
        } finally {
            if (before == null) System.clearProperty(dev.lorastream.engine.graph.SamplingHead.PROPERTY);
            else System.setProperty(dev.lorastream.engine.graph.SamplingHead.PROPERTY, before);
        }
        for (int i = 0; i < tasks.size(); i++) {
            assertThat(onDevice.get(i).tokenIds()).as(tasks.get(i).requestId()).hasSize(10).isEqualTo(onHost.get(i).tokenIds());
        }
        long sampled = 7 * 10;
        assertThat(device.samplesOnDevice() + device.samplesOnHost()).isEqualTo(sampled);
        assertThat(device.samplesOnDevice()).as("tokens the sampling head chose").isPositive();
        assertThat(device.samplesOnHost()).as("tokens left to the host (top_k 20 above 8 candidates, wide nuclei)").isPositive();
        assertThat(host.samplesOnDevice()).isZero();
        assertThat(host.samplesOnHost()).isEqualTo(sampled);
    }
}
