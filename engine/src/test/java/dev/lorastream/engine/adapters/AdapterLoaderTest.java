package dev.lorastream.engine.adapters;

import dev.lorastream.engine.ContributorShare;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.demo.RandomModels;
import dev.lorastream.engine.demo.RandomModels.LoraSpec;
import dev.lorastream.engine.model.DType;
import dev.lorastream.engine.model.FloatTensor;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.model.SafetensorsWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class AdapterLoaderTest {
    private static final String Q_A = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";

    @TempDir
    Path tmp;
    private TestModels.Backbone backbone;
    private AdapterLoader loader;

    @BeforeEach
    void setUp() throws Exception {
        backbone = TestModels.writeBackbone(tmp.resolve("backbone"), TestModels.llama(), 1);
        loader = new AdapterLoader(ModelConfig.read(backbone.dir()), Set.of("test-llama"), 16);
    }

    private LoraSpec spec(List<String> targets, int r) {
        return TestModels.lora(targets, r, 2.0 * r, false, backbone, 0.1);
    }

    /** Writes an adapter, then lets the test edit its config JSON before it is saved again. */
    private Path adapter(String id, LoraSpec spec, Consumer<Map<String, Object>> editConfig) throws Exception {
        Path dir = TestModels.writeAdapter(tmp.resolve("adapters"), id, backbone, spec, 5).dir();
        Map<String, Object> config = new LinkedHashMap<>(spec.configJson());
        editConfig.accept(config);
        TestModels.writeJson(dir.resolve("adapter_config.json"), config);
        return dir;
    }

    @Test
    void validAdapterLoadsWithScalingsFromRankAndAlphaPatterns() throws Exception {
        LoraSpec spec = new LoraSpec(TestModels.ALL, 4, 8, false, Map.of("down_proj", 6), Map.of("down_proj", 3.0), "org/test-llama", 0.1);
        Path dir = adapter("med", spec, c -> {});

        LoraAdapter a = loader.load("med", dir);

        LoraWeights q = a.weights().get(Projection.Q_PROJ).get(1);
        LoraWeights down = a.weights().get(Projection.DOWN_PROJ).get(0);
        assertThat(q.rank()).isEqualTo(4);
        assertThat(q.scaling()).isEqualTo(2.0f);
        assertThat(down.rank()).isEqualTo(6);
        assertThat(down.scaling()).isEqualTo(0.5f);
        assertThat(a.maxRank(Projection.DOWN_PROJ)).isEqualTo(6);
        assertThat(q.a()).containsExactly(storedTensor(dir, "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight"));
        assertThat(a.version()).startsWith("sha256:").hasSize(19);
        assertThat(a.metadata().contributors()).isEmpty();
    }

    private float[] storedTensor(Path dir, String key) {
        try (var f = dev.lorastream.engine.model.SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
            return f.read(key).data();
        }
    }

    @Test
    void rsLoraScalesByAlphaOverSquareRootOfRank() throws Exception {
        Path dir = adapter("rs", TestModels.lora(List.of("q_proj", "v_proj"), 16, 8, true, backbone, 0.1), c -> {});

        LoraAdapter a = loader.load("rs", dir);

        assertThat(a.weights().get(Projection.V_PROJ).get(0).scaling()).isEqualTo(2.0f);
        assertThat(a.targets()).containsExactlyInAnyOrder(Projection.Q_PROJ, Projection.V_PROJ);
    }

    @Test
    void halfPrecisionWeightsAreConverted() throws Exception {
        Path dir = adapter("half", spec(List.of("q_proj"), 2), c -> {});
        Map<String, FloatTensor> weights = RandomModels.lora(backbone.spec(), spec(List.of("q_proj"), 2), 5);
        Files.write(dir.resolve("adapter_model.safetensors"), SafetensorsWriter.toBytes(weights, Map.of(), DType.F16));

        LoraAdapter a = loader.load("half", dir);

        assertThat(a.weights().get(Projection.Q_PROJ).get(0).a()[3]).isCloseTo(weights.get(Q_A).data()[3], within(1e-3f));
    }

    @Test
    void doraIsRefused() throws Exception {
        Path dir = adapter("dora", spec(List.of("q_proj"), 4), c -> c.put("use_dora", true));

        assertThatThrownBy(() -> loader.load("dora", dir)).isInstanceOf(AdapterValidationException.class)
                .hasMessageContaining(dir.resolve("adapter_config.json").toString())
                .hasMessageContaining("use_dora").hasMessageContaining("DoRA is not supported")
                .extracting(e -> ((AdapterValidationException) e).key()).isEqualTo("use_dora");
    }

    @Test
    void wrongShapeIsRefusedNamingFileKeyAndShapes() throws Exception {
        Path dir = adapter("wide", spec(List.of("q_proj"), 4), c -> {});
        RandomModels.BackboneSpec wider = new RandomModels.BackboneSpec("llama", "test-llama", 48, 2, 4, 2, 48, 99, 64, 1e4, 1e-5, false, false, 1, 2);
        Files.write(dir.resolve("adapter_model.safetensors"), SafetensorsWriter.toBytes(RandomModels.lora(wider, spec(List.of("q_proj"), 4), 1), Map.of()));

        assertThatThrownBy(() -> loader.load("wide", dir)).isInstanceOf(AdapterValidationException.class)
                .hasMessageContaining(dir.resolve("adapter_model.safetensors").toString())
                .hasMessageContaining(Q_A)
                .hasMessageContaining("shape [4, 48] does not fit: expected [4, 32]");
    }

    @Test
    void unknownTargetModuleIsRefused() throws Exception {
        Path dir = adapter("head", spec(List.of("q_proj"), 4), c -> c.put("target_modules", List.of("q_proj", "lm_head")));

        assertThatThrownBy(() -> loader.load("head", dir))
                .hasMessageContaining("adapter_config.json: target_modules: 'lm_head' is not a projection this engine can adapt");
    }

    @Test
    void rankOverTheLimitIsRefused() throws Exception {
        Path dir = adapter("big", spec(List.of("q_proj"), 32), c -> {});
        Path patterned = adapter("patterned", spec(List.of("q_proj"), 4), c -> c.put("rank_pattern", Map.of("q_proj", 64)));

        assertThatThrownBy(() -> loader.load("big", dir)).hasMessageContaining("adapter_config.json: r: rank 32 exceeds this engine's limit of 16");
        assertThatThrownBy(() -> loader.load("patterned", patterned)).hasMessageContaining("rank_pattern.q_proj: rank 64 exceeds");
    }

    @Test
    void contributorSharesThatDoNotSumToOneAreRefused() throws Exception {
        Path dir = adapter("shares", spec(List.of("q_proj"), 4), c -> {});
        TestModels.writeJson(dir.resolve("lorastream.json"), Map.of("version", "2", "contributors",
                List.of(Map.of("id", "a", "share", 0.5), Map.of("id", "b", "share", 0.4))));

        assertThatThrownBy(() -> loader.load("shares", dir)).isInstanceOf(AdapterValidationException.class)
                .hasMessageContaining(dir.resolve("lorastream.json").toString())
                .hasMessageContaining("contributors: shares sum to 0.9");
    }

    @Test
    void sidecarGivesVersionAndContributors() throws Exception {
        Path dir = adapter("good", spec(List.of("q_proj"), 4), c -> {});
        TestModels.writeJson(dir.resolve("lorastream.json"), Map.of("version", "2.1", "description", "d", "contributors",
                List.of(Map.of("id", "a", "share", 0.7), Map.of("id", "b", "share", 0.3))));

        LoraAdapter a = loader.load("good", dir);

        assertThat(a.version()).isEqualTo("2.1");
        assertThat(a.metadata().contributors()).containsExactly(new ContributorShare("a", 0.7), new ContributorShare("b", 0.3));
    }

    @Test
    void adapterForAnotherBaseModelIsRefused() throws Exception {
        Path dir = adapter("other", spec(List.of("q_proj"), 4), c -> c.put("base_model_name_or_path", "meta-llama/Llama-3.2-1B"));

        assertThatThrownBy(() -> loader.load("other", dir))
                .hasMessageContaining("base_model_name_or_path: 'meta-llama/Llama-3.2-1B' is not this engine's backbone (test-llama)");
    }

    @Test
    void weightsForAModuleOutsideTheTargetsAreRefused() throws Exception {
        Path dir = adapter("extra", spec(List.of("q_proj", "v_proj"), 4), c -> c.put("target_modules", List.of("q_proj")));

        assertThatThrownBy(() -> loader.load("extra", dir))
                .hasMessageContaining("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight: v_proj of layer 0 is not among target_modules [q_proj]");
    }

    @Test
    void aLoneLoraAWithoutItsBIsRefused() throws Exception {
        Path dir = adapter("half-pair", spec(List.of("q_proj"), 4), c -> {});
        Map<String, FloatTensor> weights = new LinkedHashMap<>(RandomModels.lora(backbone.spec(), spec(List.of("q_proj"), 4), 1));
        weights.remove("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight");
        Files.write(dir.resolve("adapter_model.safetensors"), SafetensorsWriter.toBytes(weights, Map.of()));

        assertThatThrownBy(() -> loader.load("half-pair", dir))
                .hasMessageContaining("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight: missing (lora_A is present)");
    }

    @Test
    void tensorsThatAreNotLayerProjectionsAreRefused() throws Exception {
        Path dir = adapter("embed", spec(List.of("q_proj"), 4), c -> {});
        Map<String, FloatTensor> weights = new LinkedHashMap<>(RandomModels.lora(backbone.spec(), spec(List.of("q_proj"), 4), 1));
        weights.put("base_model.model.model.embed_tokens.lora_embedding_A", new FloatTensor(new int[] {4, 99}, new float[4 * 99]));
        Files.write(dir.resolve("adapter_model.safetensors"), SafetensorsWriter.toBytes(weights, Map.of()));

        assertThatThrownBy(() -> loader.load("embed", dir))
                .hasMessageContaining("base_model.model.model.embed_tokens.lora_embedding_A: not a LoRA weight of a decoder-layer projection");
    }

    @Test
    void missingConfigIsRefusedNamingTheFile() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("adapters/empty"));

        assertThatThrownBy(() -> loader.load("empty", dir)).hasMessageContaining(dir.resolve("adapter_config.json") + ": missing");
    }
}
