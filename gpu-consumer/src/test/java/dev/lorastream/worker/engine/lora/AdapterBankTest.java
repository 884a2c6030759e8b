package dev.lorastream.worker.engine.lora;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import dev.lorastream.worker.engine.TestModels;
import dev.lorastream.worker.engine.graph.GraphNames;
import dev.lorastream.worker.engine.model.ModelConfig;
import dev.lorastream.worker.engine.model.Projection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
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
}
