package dev.lorastream.engine.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.lorastream.engine.onnx.EngineStatus;
import dev.lorastream.engine.onnx.OnnxLoraEngine;
import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.demo.RandomModels.BackboneSpec;
import dev.lorastream.engine.demo.RandomModels.LoraSpec;
import dev.lorastream.engine.adapters.cache.CacheConfig;
import dev.lorastream.engine.adapters.AdapterBank;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.scheduler.Sampler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The device-tensor path (LoRA bank and KV cache made through ONNX Runtime's C API, present
 * outputs pinned into them, rows composed by strided copies) run with the CPU allocator: the code
 * that keeps them on the GPU under CUDA, checked against the Java-buffer path on any host.
 */
class DeviceTensorsTest {
    private static final int NEW_TOKENS = 6;

    @TempDir
    Path tmp;

    static Stream<BackboneSpec> backbones() {
        return Stream.of(TestModels.llama(), TestModels.qwen2(), TestModels.mistralWithBias());
    }

    private record Models(TestModels.Backbone backbone, Path adapters) {}

    private Models models(BackboneSpec spec) throws Exception {
        TestModels.Backbone b = TestModels.writeBackbone(tmp.resolve("backbone"), spec, 7);
        Path adapters = tmp.resolve("adapters");
        TestModels.writeAdapter(adapters, "alpha", b, TestModels.lora(List.of("q_proj", "v_proj"), 4, 8, false, b, 0.3), 101);
        TestModels.writeAdapter(adapters, "beta", b,
                new LoraSpec(TestModels.ALL, 2, 4, false, Map.of("down_proj", 6), Map.of("down_proj", 3.0), spec.name(), 0.3), 102);
        TestModels.writeAdapter(adapters, "gamma", b, TestModels.lora(List.of("q_proj", "k_proj", "v_proj", "o_proj"), 8, 8, true, b, 0.3), 103);
        return new Models(b, adapters);
    }

    /** Rows of different adapters and lengths; with max batch 2 they join and leave, so caches are composed. */
    private static List<GenerationTask> workload() {
        return List.of(
                TestModels.greedy("base", null, TestModels.prompt(1, 7), NEW_TOKENS),
                TestModels.greedy("alpha-short", "alpha", TestModels.prompt(2, 3), NEW_TOKENS + 3),
                TestModels.greedy("beta", "beta", TestModels.prompt(3, 11), NEW_TOKENS),
                TestModels.greedy("gamma", "gamma", TestModels.prompt(4, 5), NEW_TOKENS - 2),
                TestModels.greedy("alpha-long", "alpha", TestModels.prompt(5, 9), NEW_TOKENS + 1));
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
    void deviceTensorsGiveTheLogitsOfTheJavaBufferPathExactly(BackboneSpec spec) throws Exception {
        Models m = models(spec);
        EngineConfig host = new EngineConfig(m.backbone().dir(), m.adapters(), "cpu", 2);
        Run expected, actual;
        try (OnnxLoraEngine e = OnnxLoraEngine.open(host)) {
            assertThat(e.status().bank().memory()).isEqualTo(DeviceMemory.Kind.HOST);
            expected = run(e, workload());
        }
        try (OnnxLoraEngine e = OnnxLoraEngine.open(host.withDeviceTensors("on"))) {
            assertThat(e.status().bank().memory()).isEqualTo(DeviceMemory.Kind.ORT_CPU);
            actual = run(e, workload());
            assertThat(e.status().scheduler().composes()).as("rows joined a running batch").isPositive();
        }
        for (int i = 0; i < workload().size(); i++) {
            assertThat(actual.out().get(i).tokenIds()).as(workload().get(i).requestId()).isEqualTo(expected.out().get(i).tokenIds());
        }
        assertThat(actual.logits().keySet()).isEqualTo(expected.logits().keySet());
        for (Long k : expected.logits().keySet()) {
            assertThat(actual.logits().get(k)).as("row %d step %d", k >> 32, k & 0xffffffffL).isEqualTo(expected.logits().get(k));
        }
    }

    @ParameterizedTest
    @MethodSource("backbones")
    void greedyTokensChosenOnTheDeviceEqualTheArgmaxOfTheLogits(BackboneSpec spec) throws Exception {
        Models m = models(spec);
        for (String mode : List.of("off", "on")) {
            try (OnnxLoraEngine e = OnnxLoraEngine.open(new EngineConfig(m.backbone().dir(), m.adapters(), "cpu", 2).withDeviceTensors(mode))) {
                Run withLogits = run(e, workload());            // an observer: every step's logits come back
                List<Generation> tokensOnly = e.generate(workload()); // no observer, greedy: only the step's argmax comes back
                for (int i = 0; i < workload().size(); i++) {
                    int[] tokens = withLogits.out().get(i).tokenIds();
                    for (int step = 0; step < tokens.length; step++) {
                        float[] logits = withLogits.logits().get(((long) i << 32) | step);
                        assertThat(tokens[step]).as("%s %s step %d", mode, workload().get(i).requestId(), step).isEqualTo(Sampler.argmax(logits));
                    }
                    assertThat(tokensOnly.get(i).tokenIds()).as("%s %s", mode, workload().get(i).requestId()).isEqualTo(tokens);
                }
            }
        }
    }

    @Test
    void theBankIsSizedOnceFromTheStoresAdaptersAndRefusesAnAdapterItCannotHoldWithTheReason() throws Exception {
        Models m = models(TestModels.llama());
        EngineConfig config = new EngineConfig(m.backbone().dir(), m.adapters(), "cpu", 4).withMaxLoraRank(16).withDeviceTensors("on");
        try (OnnxLoraEngine e = OnnxLoraEngine.open(config)) {
            EngineStatus.Bank bank = e.status().bank();
            assertThat(bank.ranks()).containsEntry(Projection.Q_PROJ, 8).containsEntry(Projection.V_PROJ, 8)
                    .containsEntry(Projection.GATE_PROJ, 2).containsEntry(Projection.DOWN_PROJ, 6);
            assertThat(bank.bytes()).isEqualTo(bank.slots() * bank.slotBytes())
                    .isLessThan((long) bank.slots() * AdapterBank.slotBytes(ModelConfig.read(m.backbone().dir()), 16));
            run(e, workload());

            TestModels.writeAdapter(m.adapters(), "wide", m.backbone(), TestModels.lora(List.of("q_proj", "gate_proj"), 12, 12, false, m.backbone(), 0.3), 104);
            e.reloadAdapters();
            assertThat(e.failedAdapters()).containsKey("wide");
            assertThat(e.failedAdapters().get("wide")).contains("uses rank 12 on q_proj; this engine's bank holds at most rank 8 there");
            CompletableFuture<Generation> refused = e.submit(TestModels.greedy("wide", "wide", TestModels.prompt(8, 6), NEW_TOKENS));
            assertThatThrownBy(refused::join).hasCauseInstanceOf(dev.lorastream.engine.InvalidTaskException.class)
                    .hasMessageContaining("rank 12 on q_proj");
        }
        try (OnnxLoraEngine wider = OnnxLoraEngine.open(config.withBank(12, List.of("gate_proj", "up_proj")))) {
            assertThat(wider.status().bank().ranks()).containsEntry(Projection.Q_PROJ, 12).containsEntry(Projection.UP_PROJ, 12);
            assertThat(wider.failedAdapters()).isEmpty();
        }
    }

    @Test
    void aStoreWithoutAdaptersGivesABankWithoutLoraAndTheGraphNoLoraNodes() throws Exception {
        TestModels.Backbone b = TestModels.writeBackbone(tmp.resolve("backbone"), TestModels.llama(), 7);
        try (OnnxLoraEngine e = OnnxLoraEngine.open(new EngineConfig(b.dir(), null, "cpu", 2).withDeviceTensors("on"), CacheConfig.DEFAULT)) {
            EngineStatus status = e.status();
            assertThat(status.bank().ranks()).isEmpty();
            assertThat(status.bank().bytes()).isZero();
            try (OrtSession graph = OrtEnvironment.getEnvironment().createSession(status.graphPath().toString())) {
                assertThat(graph.getInputNames()).noneMatch(n -> n.startsWith("lora."));
            }
            Generation g = e.generate(List.of(TestModels.greedy("r", null, TestModels.prompt(3, 4), 3))).getFirst();
            assertThat(g.tokenIds()).hasSize(3);
        }
    }

    @Test
    void precisionAndDeviceTensorSettingsAreChecked() {
        Path dir = tmp;
        EngineConfig c = new EngineConfig(dir, null, "cpu", 1);
        assertThat(c.tf32()).isFalse();
        assertThat(c.precision()).isEqualTo("fp32");
        assertThat(c.effectiveDeviceTensors(false)).isFalse();
        assertThat(c.effectiveDeviceTensors(true)).as("the fused graph keeps its cache in the session's memory").isTrue();
        assertThat(new EngineConfig(dir, null, "cuda", 1).effectiveDeviceTensors(false)).isTrue();
        assertThat(new EngineConfig(dir, null, "cuda", 1).withDeviceTensors("off").effectiveDeviceTensors(false)).isFalse();
        assertThat(c.withDeviceTensors("ON").deviceTensors()).isEqualTo("on");
        assertThatThrownBy(() -> c.withPrecision("bf16")).hasMessageContaining("precision 'bf16' is not supported");
        assertThatThrownBy(() -> c.withDeviceTensors("maybe")).hasMessageContaining("(auto, on, off)");
        assertThatThrownBy(() -> new EngineConfig(dir, null, "cuda", 1).withPrecision("fp16").withDeviceTensors("off"))
                .hasMessageContaining("deviceTensors off is float32 only");
    }
}
