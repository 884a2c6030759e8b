package dev.lorastream.engine.adapters;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.graph.BankLayout;
import dev.lorastream.engine.graph.GraphNames;
import dev.lorastream.engine.graph.LoraGroup;
import dev.lorastream.engine.graph.Precision;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.runtime.DeviceMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AdapterBankTest {
    @TempDir
    Path tmp;

    private static BankLayout uniform(int rank, int slots) {
        Map<Projection, Integer> ranks = new EnumMap<>(Projection.class);
        for (Projection p : Projection.values()) ranks.put(p, rank);
        return new BankLayout(ranks, slots, Precision.FP32);
    }

    private static AdapterBank allocate(ModelConfig c, BankLayout layout) {
        return AdapterBank.allocate(DeviceMemory.host(OrtEnvironment.getEnvironment()), c, layout);
    }

    @Test
    void aGroupHoldsItsMembersTransposedScaledWeightsSideBySideAndBlockDiagonalWithAZeroBaseSlot() throws Exception {
        TestModels.Backbone b = TestModels.writeBackbone(tmp.resolve("backbone"), TestModels.llama(), 1);
        ModelConfig c = ModelConfig.read(b.dir());
        AdapterLoader loader = new AdapterLoader(c, Set.of("test-llama"), 16);
        LoraAdapter small = loader.load("small", TestModels.writeAdapter(tmp, "small", b, TestModels.lora(List.of("q_proj"), 2, 6, false, b, 0.1), 1).dir());
        LoraAdapter large = loader.load("large", TestModels.writeAdapter(tmp, "large", b, TestModels.lora(List.of("q_proj", "v_proj"), 5, 5, false, b, 0.1), 2).dir());

        try (AdapterBank bank = AdapterBank.build(OrtEnvironment.getEnvironment(), c, List.of(small, large))) {
            int in = 32, qOut = 32, kvOut = 16, out = qOut + 2 * kvOut, rank = 10; // q 5 + v 5; k has none
            assertThat(bank.layout().groups()).containsExactly(LoraGroup.QKV);
            assertThat(bank.rank(Projection.Q_PROJ)).isEqualTo(5);
            assertThat(bank.rank(Projection.K_PROJ)).isZero();
            assertThat(bank.layout().rankOffset(Projection.V_PROJ)).isEqualTo(5);
            assertThat(bank.inputs()).containsOnlyKeys(GraphNames.loraA(0, LoraGroup.QKV), GraphNames.loraB(0, LoraGroup.QKV),
                    GraphNames.loraA(1, LoraGroup.QKV), GraphNames.loraB(1, LoraGroup.QKV));
            OnnxTensor aT = bank.inputs().get(GraphNames.loraA(1, LoraGroup.QKV));
            OnnxTensor bT = bank.inputs().get(GraphNames.loraB(1, LoraGroup.QKV));
            assertThat(aT.getInfo().getShape()).containsExactly(3, in, rank);
            assertThat(bT.getInfo().getShape()).containsExactly(3, rank, out);
            float[] a = floats(aT), bb = floats(bT);
            LoraWeights q = small.weights().get(Projection.Q_PROJ).get(1);
            LoraWeights v = large.weights().get(Projection.V_PROJ).get(1);
            for (int i = 0; i < in; i++) {
                for (int r = 0; r < rank; r++) {
                    assertThat(a[(0 * in + i) * rank + r]).isZero();
                    assertThat(a[(1 * in + i) * rank + r]).isEqualTo(r < 2 ? q.a()[r * in + i] : 0f);
                    assertThat(a[(2 * in + i) * rank + r]).isEqualTo(r >= 5 ? v.a()[(r - 5) * in + i] : large.weights().get(Projection.Q_PROJ).get(1).a()[r * in + i]);
                }
            }
            for (int r = 0; r < rank; r++) {
                for (int o = 0; o < out; o++) {
                    float small1 = r < 2 && o < qOut ? 3f * q.b()[o * 2 + r] : 0f;
                    assertThat(bb[(1 * rank + r) * out + o]).as("slot 1 B' row %d col %d", r, o).isEqualTo(small1);
                    float large2 = r >= 5 && o >= qOut + kvOut ? v.b()[(o - qOut - kvOut) * 5 + (r - 5)] : r < 5 && o < qOut ? bb[(2 * rank + r) * out + o] : 0f;
                    assertThat(bb[(2 * rank + r) * out + o]).as("slot 2 B' row %d col %d", r, o).isEqualTo(large2);
                }
            }
            assertThatThrownBy(() -> bank.slotOf("nope")).hasMessageContaining("'nope' is not in the bank");
        }
    }

    @Test
    void writingAnAdapterIntoASlotRewritesOnlyThatSlotAndGivesTheDeltaOfTheAdapterAlone() throws Exception {
        TestModels.Backbone b = TestModels.writeBackbone(tmp.resolve("backbone"), TestModels.llama(), 1);
        ModelConfig c = ModelConfig.read(b.dir());
        AdapterLoader loader = new AdapterLoader(c, Set.of("test-llama"), 16);
        LoraAdapter first = loader.load("first", TestModels.writeAdapter(tmp, "first", b, TestModels.lora(TestModels.ALL, 4, 8, false, b, 0.1), 1).dir());
        LoraAdapter second = loader.load("second", TestModels.writeAdapter(tmp, "second", b, TestModels.lora(List.of("q_proj", "v_proj"), 8, 8, false, b, 0.1), 2).dir());
        LoraAdapter third = loader.load("third", TestModels.writeAdapter(tmp, "third", b, TestModels.lora(List.of("k_proj"), 2, 4, false, b, 0.1), 3).dir());

        try (AdapterBank bank = allocate(c, uniform(8, 3));
             AdapterBank secondAlone = AdapterBank.build(OrtEnvironment.getEnvironment(), c, List.of(second));
             AdapterBank thirdAlone = AdapterBank.build(OrtEnvironment.getEnvironment(), c, List.of(third))) {
            assertThat(bank.sizeBytes()).isEqualTo(3 * bank.layout().slotBytes(c));
            bank.write(1, first);
            bank.write(2, second);
            Map<String, float[]> before = snapshot(bank);

            bank.write(1, third);

            Map<String, float[]> after = snapshot(bank);
            for (String name : after.keySet()) {
                int slot = after.get(name).length / 3;
                assertThat(Arrays.copyOfRange(after.get(name), 0, slot)).as("slot 0 of %s", name).containsOnly(0f);
                assertThat(Arrays.copyOfRange(after.get(name), 2 * slot, 3 * slot)).as("slot 2 of %s", name)
                        .isEqualTo(Arrays.copyOfRange(before.get(name), 2 * slot, 3 * slot));
            }
            assertThat(bank.adapterIds()).containsExactly("third", "second");
            assertThat(bank.slotOf("third")).isEqualTo(1);
            assertThat(bank.contains("first")).isFalse();
            assertSameDelta(bank, 1, thirdAlone, c);
            assertSameDelta(bank, 2, secondAlone, c);
        }
    }

    @Test
    void aWriteCopiesOnlyTheGroupsTheAdapterOrTheSlotsPreviousAdapterReaches() throws Exception {
        TestModels.Backbone b = TestModels.writeBackbone(tmp.resolve("backbone"), TestModels.llama(), 1);
        ModelConfig c = ModelConfig.read(b.dir());
        AdapterLoader loader = new AdapterLoader(c, Set.of("test-llama"), 16);
        LoraAdapter k = loader.load("k", TestModels.writeAdapter(tmp, "k", b, TestModels.lora(List.of("k_proj"), 4, 4, false, b, 0.1), 1).dir());
        LoraAdapter down = loader.load("down", TestModels.writeAdapter(tmp, "down", b, TestModels.lora(List.of("down_proj"), 4, 4, false, b, 0.1), 2).dir());
        BankLayout layout = uniform(4, 2);
        long qkv = 4L * c.numHiddenLayers() * (layout.elementsA(c, LoraGroup.QKV) + layout.elementsB(c, LoraGroup.QKV));
        long downBytes = 4L * c.numHiddenLayers() * (layout.elementsA(c, LoraGroup.DOWN) + layout.elementsB(c, LoraGroup.DOWN));

        try (AdapterBank bank = allocate(c, layout)) {
            assertThat(bank.pack(down).bytes()).isEqualTo(layout.slotBytes(c));
            bank.write(1, k);
            assertThat(bank.writeStats().bytes()).isEqualTo(qkv);
            bank.write(1, down); // k's rows are cleared by copying the image's zeros over them
            assertThat(bank.writeStats().bytes()).isEqualTo(qkv + qkv + downBytes);
            bank.write(1, down);
            assertThat(bank.writeStats().writes()).isEqualTo(3);
            assertThat(bank.writeStats().bytes()).isEqualTo(qkv + qkv + downBytes + downBytes);
        }
    }

    @Test
    void anAdapterTheFixedBankCannotHoldIsRefusedWithTheReason() throws Exception {
        TestModels.Backbone b = TestModels.writeBackbone(tmp.resolve("backbone"), TestModels.llama(), 1);
        ModelConfig c = ModelConfig.read(b.dir());
        AdapterLoader loader = new AdapterLoader(c, Set.of("test-llama"), 16);
        LoraAdapter wide = loader.load("wide", TestModels.writeAdapter(tmp, "wide", b, TestModels.lora(List.of("q_proj"), 8, 8, false, b, 0.1), 1).dir());
        LoraAdapter mlp = loader.load("mlp", TestModels.writeAdapter(tmp, "mlp", b, TestModels.lora(List.of("gate_proj"), 2, 2, false, b, 0.1), 2).dir());
        Map<Projection, Integer> qv = new EnumMap<>(Map.of(Projection.Q_PROJ, 4, Projection.V_PROJ, 4));

        try (AdapterBank bank = allocate(c, new BankLayout(qv, 2, Precision.FP32))) {
            assertThatThrownBy(() -> bank.write(1, wide)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("uses rank 8 on q_proj; this engine's bank holds at most rank 4 there");
            assertThatThrownBy(() -> bank.pack(mlp)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("targets gate_proj, which this engine has no LoRA for")
                    .hasMessageContaining("covers q_proj=4 v_proj=4");
            assertThatThrownBy(() -> bank.write(2, mlp)).hasMessageContaining("slot 2 is not an adapter slot");
        }
    }

    private static float[] floats(OnnxTensor t) {
        java.nio.FloatBuffer fb = t.getFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }

    /** Every bank tensor of every layer, read back out of ONNX Runtime. */
    private static Map<String, float[]> snapshot(AdapterBank bank) {
        Map<String, float[]> out = new java.util.TreeMap<>();
        bank.inputs().forEach((name, t) -> out.put(name, floats(t)));
        return out;
    }

    /** Slot {@code slot} of {@code bank} applies the delta slot 1 of {@code alone} applies (A'·B' per layer and projection, exactly). */
    private static void assertSameDelta(AdapterBank bank, int slot, AdapterBank alone, ModelConfig c) {
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            for (Projection p : Projection.values()) {
                float[][] expected = delta(alone, 1, l, p, c), actual = delta(bank, slot, l, p, c);
                for (int i = 0; i < actual.length; i++) assertThat(actual[i]).as("layer %d %s row %d", l, p, i).isEqualTo(expected[i]);
            }
        }
    }

    /** The [in, out] delta the slot adds to projection p of layer l (zeros when the bank has no LoRA for it). */
    private static float[][] delta(AdapterBank bank, int slot, int l, Projection p, ModelConfig c) {
        LoraGroup g = LoraGroup.of(p);
        int in = p.inFeatures(c), out = p.outFeatures(c);
        float[][] d = new float[in][out];
        if (!bank.layout().groups().contains(g)) return d;
        int r = bank.layout().rank(g), outG = g.outFeatures(c), off = g.outOffset(c, p);
        float[] a = floats(bank.inputs().get(GraphNames.loraA(l, g))), b = floats(bank.inputs().get(GraphNames.loraB(l, g)));
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                float s = 0;
                for (int k = 0; k < r; k++) {
                    float x = a[(slot * in + i) * r + k], y = b[(slot * r + k) * outG + off + o];
                    if (x != 0 && y != 0) s += x * y;
                }
                d[i][o] = s;
            }
        }
        return d;
    }
}
