package dev.lorastream.engine.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.demo.RandomModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private ModelConfig read(Map<String, Object> json) throws Exception {
        Files.writeString(tmp.resolve("config.json"), JSON.writeValueAsString(json));
        return ModelConfig.read(tmp);
    }

    @Test
    void llamaConfigGivesGqaShapesAndNoBiases() throws Exception {
        ModelConfig c = read(TestModels.llama().configJson());

        assertThat(c.modelType()).isEqualTo("llama");
        assertThat(c.name()).isEqualTo("test-llama");
        assertThat(c.numKeyValueHeads()).isEqualTo(2);
        assertThat(c.headDim()).isEqualTo(8);
        assertThat(Projection.K_PROJ.outFeatures(c)).isEqualTo(16);
        assertThat(Projection.DOWN_PROJ.inFeatures(c)).isEqualTo(48);
        assertThat(c.hasBias(Projection.Q_PROJ)).isFalse();
        assertThat(c.eosTokenId()).isEqualTo(2);
        assertThat(c.maxSequenceLength()).isEqualTo(64);
    }

    @Test
    void qwen2HasQkvBiasesButNoOutputBias() throws Exception {
        ModelConfig c = read(TestModels.qwen2().configJson());

        assertThat(c.hasBias(Projection.Q_PROJ)).isTrue();
        assertThat(c.hasBias(Projection.V_PROJ)).isTrue();
        assertThat(c.hasBias(Projection.O_PROJ)).isFalse();
        assertThat(c.tieWordEmbeddings()).isTrue();
    }

    @Test
    void eosMayBeAListAndSlidingWindowCapsTheSequence() throws Exception {
        Map<String, Object> json = new LinkedHashMap<>(TestModels.mistralWithBias().configJson());
        json.put("eos_token_id", List.of(2, 5));
        json.put("sliding_window", 32);

        ModelConfig c = read(json);

        assertThat(c.eosTokenIds()).containsExactly(2, 5);
        assertThat(c.maxSequenceLength()).isEqualTo(32);
    }

    @Test
    void unsupportedArchitectureIsRefusedNamingTheFile() throws Exception {
        Map<String, Object> json = new LinkedHashMap<>(TestModels.llama().configJson());
        json.put("model_type", "gpt2");

        assertThatThrownBy(() -> read(json)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("config.json").hasMessageContaining("model_type 'gpt2' is not supported");
    }

    @Test
    void unknownRopeScalingIsRefused() throws Exception {
        Map<String, Object> json = new LinkedHashMap<>(TestModels.llama().configJson());
        json.put("rope_scaling", Map.of("rope_type", "yarn", "factor", 4.0));

        assertThatThrownBy(() -> read(json)).hasMessageContaining("rope_scaling type 'yarn' is not supported");
    }

    @Test
    void llama3RopeScalingSlowsOnlyLowFrequencies() throws Exception {
        Map<String, Object> json = new LinkedHashMap<>(TestModels.llama().configJson());
        json.put("rope_scaling", Map.of("rope_type", "llama3", "factor", 8.0, "low_freq_factor", 1.0,
                "high_freq_factor", 4.0, "original_max_position_embeddings", 64));
        ModelConfig scaled = read(json);
        ModelConfig plain = read(TestModels.llama().configJson());

        float[] s = Rope.inverseFrequencies(scaled), p = Rope.inverseFrequencies(plain);

        assertThat(s[0]).isEqualTo(p[0]);
        assertThat(s[s.length - 1]).isEqualTo(p[p.length - 1] / 8f);
    }

    @Test
    void checkpointWithAWrongShapeIsRefusedNamingTheTensor() throws Exception {
        RandomModels.BackboneSpec spec = TestModels.llama();
        TestModels.writeBackbone(tmp, spec, 1);
        ModelConfig c = ModelConfig.read(tmp);
        Map<String, Object> json = new LinkedHashMap<>(spec.configJson());
        json.put("intermediate_size", 64);
        Files.writeString(tmp.resolve("config.json"), JSON.writeValueAsString(json));
        ModelConfig wrong = ModelConfig.read(tmp);

        try (Checkpoint ckpt = Checkpoint.open(tmp)) {
            ckpt.validate(c);
            assertThatThrownBy(() -> ckpt.validate(wrong)).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("model.layers.0.mlp.gate_proj.weight").hasMessageContaining("[48, 32], expected [64, 32]");
        }
    }
}
