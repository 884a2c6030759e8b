package dev.lorastream.engine.demo;

import dev.lorastream.engine.model.FloatTensor;
import dev.lorastream.engine.model.SafetensorsWriter;
import dev.lorastream.engine.model.WeightNames;
import dev.lorastream.engine.model.tokenizer.CharTokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The demo's models: a tiny random Llama backbone for the character tokenizer and three PEFT
 * adapters with different targets and ranks ({@code dermatology}: q,v r=8; {@code cardiology}:
 * all seven projections r=4; {@code nutrition}: q,k,v,o r=16 with rsLoRA), each with a
 * {@code lorastream.json} naming its data contributors. Deterministic: the same bytes on every
 * run; files already holding those bytes are left alone.
 */
public final class DemoModels {
    public static final String BASE_MODEL = "lorastream/demo-llama";
    public static final List<String> ADAPTERS = List.of("dermatology", "cardiology", "nutrition");

    /** Where {@link #write} put the backbone and the adapter directory. */
    public record Paths(Path backbone, Path adapters) {}

    static final RandomModels.BackboneSpec BACKBONE = new RandomModels.BackboneSpec("llama", BASE_MODEL, 64, 2, 4, 2, 128,
            CharTokenizer.VOCAB_SIZE, 256, 10000.0, 1e-5, false, false, CharTokenizer.BOS, CharTokenizer.EOS);
    private static final long BACKBONE_SEED = 20240601L;

    private DemoModels() {}

    /** Writes (or confirms) {@code dir/backbone} and {@code dir/adapters/<id>}. */
    public static Paths write(Path dir) {
        Path backbone = dir.resolve("backbone");
        Path adapters = dir.resolve("adapters");
        try {
            RandomModels.writeIfChanged(backbone.resolve("config.json"), RandomModels.json(BACKBONE.configJson()));
            RandomModels.writeIfChanged(backbone.resolve("model.safetensors"),
                    SafetensorsWriter.toBytes(backboneWeights(), Map.of("format", "pt")));
            adapter(adapters.resolve("dermatology"), new RandomModels.LoraSpec(List.of("q_proj", "v_proj"), 8, 16, false, BASE_MODEL, 0.35), 11,
                    "1.0.0", "Skin-condition triage assistant (demo)",
                    List.of(contributor("clinic-north", 0.6), contributor("derm-atlas", 0.4)));
            adapter(adapters.resolve("cardiology"), new RandomModels.LoraSpec(
                            List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), 4, 8, false, BASE_MODEL, 0.3), 12,
                    "1.0.0", "Heart-health Q&A assistant (demo)",
                    List.of(contributor("cardio-registry", 0.5), contributor("st-marys-hospital", 0.3), contributor("ecg-lab", 0.2)));
            adapter(adapters.resolve("nutrition"), new RandomModels.LoraSpec(List.of("q_proj", "k_proj", "v_proj", "o_proj"), 16, 8, true, BASE_MODEL, 0.3), 13,
                    "1.0.0", "Diet and nutrition coach (demo)",
                    List.of(contributor("food-db", 1.0)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write demo models to " + dir + ": " + e.getMessage(), e);
        }
        return new Paths(backbone, adapters);
    }

    /** The backbone's weights; the LM head rows of pad, BOS and EOS are zero so random text runs on. */
    static Map<String, FloatTensor> backboneWeights() {
        Map<String, FloatTensor> w = RandomModels.backbone(BACKBONE, BACKBONE_SEED);
        FloatTensor head = w.get(WeightNames.LM_HEAD);
        int hidden = BACKBONE.hidden();
        for (int id : new int[] {CharTokenizer.PAD, CharTokenizer.BOS, CharTokenizer.EOS}) {
            java.util.Arrays.fill(head.data(), id * hidden, (id + 1) * hidden, 0f);
        }
        return w;
    }

    private static void adapter(Path dir, RandomModels.LoraSpec spec, long seed, String version, String description,
                                List<Map<String, Object>> contributors) throws IOException {
        RandomModels.writeIfChanged(dir.resolve("adapter_config.json"), RandomModels.json(spec.configJson()));
        RandomModels.writeIfChanged(dir.resolve("adapter_model.safetensors"),
                SafetensorsWriter.toBytes(RandomModels.lora(BACKBONE, spec, seed), Map.of("format", "pt")));
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("version", version);
        meta.put("description", description);
        meta.put("contributors", contributors);
        RandomModels.writeIfChanged(dir.resolve("lorastream.json"), RandomModels.json(meta));
    }

    private static Map<String, Object> contributor(String id, double share) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("share", share);
        return m;
    }
}
