package dev.lorastream.engine.adapters;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.graph.GraphNames;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AdapterBankTest {
    @TempDir
    Path tmp;

    @Test
    void bankHoldsTransposedScaledWeightsPaddedToTheLargestRankWithAZeroBaseSlot() throws Exception {
        TestModels.Backbone b = TestModels.writeBackbone(tmp.resolve("backbone"), TestModels.llama(), 1);
        ModelConfig c = ModelConfig.read(b.dir());
        AdapterLoader loader = new AdapterLoader(c, Set.of("test-llama"), 16);
        LoraAdapter small = loader.load("small", TestModels.writeAdapter(tmp, "small", b, TestModels.lora(List.of("q_proj"), 2, 6, false, b, 0.1), 1).dir());
        LoraAdapter large = loader.load("large", TestModels.writeAdapter(tmp, "large", b, TestModels.lora(List.of("q_proj", "v_proj"), 5, 5, false, b, 0.1), 2).dir());

        try (AdapterBank bank = AdapterBank.build(OrtEnvironment.getEnvironment(), c, List.of(small, large))) {
            int in = 32, out = 32, layers = 2, rank = 5;
            assertThat(bank.slotOf(null)).isZero();
            assertThat(bank.slotOf("small")).isEqualTo(1);
            assertThat(bank.slotOf("large")).isEqualTo(2);
            assertThat(bank.rank(Projection.Q_PROJ)).isEqualTo(rank);
            assertThat(bank.rank(Projection.DOWN_PROJ)).isEqualTo(1);
            OnnxTensor aT = bank.inputs().get(GraphNames.loraA(Projection.Q_PROJ));
            OnnxTensor bT = bank.inputs().get(GraphNames.loraB(Projection.Q_PROJ));
            assertThat(aT.getInfo().getShape()).containsExactly(3, layers, in, rank);
            assertThat(bT.getInfo().getShape()).containsExactly(3, layers, rank, out);
            float[] a = aT.getFloatBuffer().array(), bb = bT.getFloatBuffer().array();
            LoraWeights w = small.weights().get(Projection.Q_PROJ).get(1);
            for (int i = 0; i < in; i++) {
                for (int r = 0; r < rank; r++) {
                    assertThat(a[((0 * layers + 1) * in + i) * rank + r]).isZero();
                    float expected = r < 2 ? w.a()[r * in + i] : 0f;
                    assertThat(a[((1 * layers + 1) * in + i) * rank + r]).isEqualTo(expected);
                }
            }
            for (int r = 0; r < rank; r++) {
                for (int o = 0; o < out; o++) {
                    float expected = r < 2 ? 3f * w.b()[o * 2 + r] : 0f;
                    assertThat(bb[((1 * layers + 1) * rank + r) * out + o]).isEqualTo(expected);
                }
            }
            assertThatThrownBy(() -> bank.slotOf("nope")).hasMessageContaining("'nope' is not in the bank");
        }
    }

    @Test
    void writingAnAdapterIntoASlotRewritesOnlyThatSlotAndTheTensorsSeeItInPlace() throws Exception {
        TestModels.Backbone b = TestModels.writeBackbone(tmp.resolve("backbone"), TestModels.llama(), 1);
        ModelConfig c = ModelConfig.read(b.dir());
        AdapterLoader loader = new AdapterLoader(c, Set.of("test-llama"), 16);
        LoraAdapter first = loader.load("first", TestModels.writeAdapter(tmp, "first", b, TestModels.lora(TestModels.ALL, 4, 8, false, b, 0.1), 1).dir());
        LoraAdapter second = loader.load("second", TestModels.writeAdapter(tmp, "second", b, TestModels.lora(List.of("q_proj", "v_proj"), 8, 8, false, b, 0.1), 2).dir());
        LoraAdapter third = loader.load("third", TestModels.writeAdapter(tmp, "third", b, TestModels.lora(List.of("k_proj"), 2, 4, false, b, 0.1), 3).dir());

        try (AdapterBank bank = AdapterBank.allocate(OrtEnvironment.getEnvironment(), c, 2, 8);
             AdapterBank secondAlone = AdapterBank.build(OrtEnvironment.getEnvironment(), c, List.of(second));
             AdapterBank thirdAlone = AdapterBank.build(OrtEnvironment.getEnvironment(), c, List.of(third))) {
            assertThat(bank.sizeBytes()).isEqualTo(3 * AdapterBank.slotBytes(c, 8));
            bank.write(1, first);
            bank.write(2, second);
            float[][] before = snapshot(bank);

            bank.write(1, third);

            float[][] after = snapshot(bank);
            int p = 0;
            for (Projection proj : Projection.values()) {
                for (int ab = 0; ab < 2; ab++, p++) {
                    int slot = after[p].length / 3;
                    assertThat(Arrays.copyOfRange(after[p], 0, slot)).as("slot 0 of %s", proj).containsOnly(0f);
                    assertThat(Arrays.copyOfRange(after[p], 2 * slot, 3 * slot)).as("slot 2 of %s", proj).isEqualTo(Arrays.copyOfRange(before[p], 2 * slot, 3 * slot));
                }
            }
            assertThat(bank.adapterIds()).containsExactly("third", "second");
            assertThat(bank.slotOf("third")).isEqualTo(1);
            assertThat(bank.contains("first")).isFalse();
            assertSlotEquals(bank, 1, thirdAlone, c);
            assertSlotEquals(bank, 2, secondAlone, c);
        }
    }

    @Test
    void aWriteCopiesOnlyTheTensorsTheAdapterOrTheSlotsPreviousAdapterReaches() throws Exception {
        TestModels.Backbone b = TestModels.writeBackbone(tmp.resolve("backbone"), TestModels.llama(), 1);
        ModelConfig c = ModelConfig.read(b.dir());
        AdapterLoader loader = new AdapterLoader(c, Set.of("test-llama"), 16);
        LoraAdapter k = loader.load("k", TestModels.writeAdapter(tmp, "k", b, TestModels.lora(List.of("k_proj"), 4, 4, false, b, 0.1), 1).dir());
        LoraAdapter qv = loader.load("qv", TestModels.writeAdapter(tmp, "qv", b, TestModels.lora(List.of("q_proj", "v_proj"), 4, 4, false, b, 0.1), 2).dir());
        int layers = c.numHiddenLayers();
        java.util.function.ToLongFunction<Projection> bytes = p -> 4L * layers * 4 * (p.inFeatures(c) + p.outFeatures(c));

        try (AdapterBank bank = AdapterBank.allocate(OrtEnvironment.getEnvironment(), c, 1, 4)) {
            assertThat(bank.pack(qv).bytes()).isEqualTo(AdapterBank.slotBytes(c, 4));
            bank.write(1, k);
            assertThat(bank.writeStats().bytes()).isEqualTo(bytes.applyAsLong(Projection.K_PROJ));
            bank.write(1, qv); // k's rows are cleared by copying the image's zeros over them
            long second = bank.writeStats().bytes() - bytes.applyAsLong(Projection.K_PROJ);
            assertThat(second).isEqualTo(bytes.applyAsLong(Projection.Q_PROJ) + bytes.applyAsLong(Projection.V_PROJ) + bytes.applyAsLong(Projection.K_PROJ));
            try (AdapterBank alone = AdapterBank.build(OrtEnvironment.getEnvironment(), c, List.of(qv))) {
                assertSlotEquals(bank, 1, alone, c);
            }
            bank.write(1, qv);
            assertThat(bank.writeStats().writes()).isEqualTo(3);
            assertThat(bank.writeStats().bytes() - bytes.applyAsLong(Projection.K_PROJ) - second)
                    .isEqualTo(bytes.applyAsLong(Projection.Q_PROJ) + bytes.applyAsLong(Projection.V_PROJ));
        }
    }

    @Test
    void anAdapterAboveTheBanksRankIsRefused() throws Exception {
        TestModels.Backbone b = TestModels.writeBackbone(tmp.resolve("backbone"), TestModels.llama(), 1);
        ModelConfig c = ModelConfig.read(b.dir());
        LoraAdapter wide = new AdapterLoader(c, Set.of("test-llama"), 16)
                .load("wide", TestModels.writeAdapter(tmp, "wide", b, TestModels.lora(List.of("q_proj"), 8, 8, false, b, 0.1), 1).dir());

        try (AdapterBank bank = AdapterBank.allocate(OrtEnvironment.getEnvironment(), c, 1, 4)) {
            assertThatThrownBy(() -> bank.write(1, wide)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("uses rank 8 on q_proj; the bank holds at most 4");
            assertThatThrownBy(() -> bank.write(2, wide)).hasMessageContaining("slot 2 is not an adapter slot");
        }
    }

    /** A and B of every projection, read back out of ONNX Runtime. */
    private static float[][] snapshot(AdapterBank bank) {
        float[][] out = new float[2 * Projection.values().length][];
        int p = 0;
        for (Projection proj : Projection.values()) {
            out[p++] = bank.inputs().get(GraphNames.loraA(proj)).getFloatBuffer().array();
            out[p++] = bank.inputs().get(GraphNames.loraB(proj)).getFloatBuffer().array();
        }
        return out;
    }

    /** Slot {@code slot} of {@code bank} equals slot 1 of {@code alone} (zero-padded from its smaller ranks). */
    private static void assertSlotEquals(AdapterBank bank, int slot, AdapterBank alone, ModelConfig c) {
        int layers = c.numHiddenLayers();
        for (Projection p : Projection.values()) {
            int r = bank.rank(p), ra = alone.rank(p), in = p.inFeatures(c), out = p.outFeatures(c);
            float[] a = bank.inputs().get(GraphNames.loraA(p)).getFloatBuffer().array();
            float[] aa = alone.inputs().get(GraphNames.loraA(p)).getFloatBuffer().array();
            float[] bb = bank.inputs().get(GraphNames.loraB(p)).getFloatBuffer().array();
            float[] ba = alone.inputs().get(GraphNames.loraB(p)).getFloatBuffer().array();
            for (int l = 0; l < layers; l++) {
                for (int k = 0; k < r; k++) {
                    for (int i = 0; i < in; i++) {
                        float expected = k < ra ? aa[((layers + l) * in + i) * ra + k] : 0f;
                        assertThat(a[((slot * layers + l) * in + i) * r + k]).isEqualTo(expected);
                    }
                    for (int o = 0; o < out; o++) {
                        float expected = k < ra ? ba[((layers + l) * ra + k) * out + o] : 0f;
                        assertThat(bb[((slot * layers + l) * r + k) * out + o]).isEqualTo(expected);
                    }
                }
            }
        }
    }
}
