package dev.lorastream.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.engine.demo.RandomModels;
import dev.lorastream.engine.demo.RandomModels.BackboneSpec;
import dev.lorastream.engine.demo.RandomModels.LoraSpec;
import dev.lorastream.engine.model.FloatTensor;
import dev.lorastream.engine.model.SafetensorsWriter;
import dev.lorastream.engine.reference.ReferenceDecoder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Tiny random backbones and adapters written by tests, with the weights kept for the reference. */
public final class TestModels {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final List<String> ALL = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");

    private TestModels() {}

    /** Llama with grouped-query attention (4 query heads, 2 KV heads), untied LM head. */
    public static BackboneSpec llama() {
        return new BackboneSpec("llama", "test-llama", 32, 2, 4, 2, 48, 99, 64, 10000.0, 1e-5, false, false, 1, 2);
    }

    /** Qwen2: q/k/v biases, tied embeddings, 4 query heads on 1 KV head. */
    public static BackboneSpec qwen2() {
        return new BackboneSpec("qwen2", "test-qwen2", 32, 2, 4, 1, 40, 99, 64, 1000000.0, 1e-6, true, false, 1, 2);
    }

    /** Mistral shape without GQA, Llama-style attention biases on q/k/v/o. */
    public static BackboneSpec mistralWithBias() {
        return new BackboneSpec("mistral", "test-mistral", 24, 1, 3, 3, 36, 99, 48, 10000.0, 1e-5, false, true, 1, 2);
    }

    /** {@link #llama()} with head size 16, which the fused graph's GroupQueryAttention takes. */
    public static BackboneSpec llama16() {
        return new BackboneSpec("llama", "test-llama16", 64, 2, 4, 2, 96, 99, 64, 10000.0, 1e-5, false, false, 1, 2);
    }

    /** {@link #qwen2()} with head size 16. */
    public static BackboneSpec qwen2_16() {
        return new BackboneSpec("qwen2", "test-qwen2-16", 64, 2, 4, 1, 80, 99, 64, 1000000.0, 1e-6, true, false, 1, 2);
    }

    /** {@link #mistralWithBias()} with head size 16. */
    public static BackboneSpec mistral16WithBias() {
        return new BackboneSpec("mistral", "test-mistral16", 48, 2, 3, 3, 72, 99, 64, 10000.0, 1e-5, false, true, 1, 2);
    }

    public record Backbone(Path dir, BackboneSpec spec, Map<String, FloatTensor> weights) {
        public ReferenceDecoder reference() {
            boolean qwen = spec.modelType().equals("qwen2");
            return new ReferenceDecoder(new ReferenceDecoder.Shape(spec.hidden(), spec.layers(), spec.heads(), spec.kvHeads(),
                    spec.intermediate(), spec.vocab(), spec.ropeTheta(), spec.rmsNormEps(), spec.tieEmbeddings(),
                    qwen || spec.attentionBias(), !qwen && spec.attentionBias()), weights);
        }

        /** The reference with this adapter merged; scaling computed here from the spec (alpha/r, rsLoRA alpha/sqrt(r)). */
        public ReferenceDecoder reference(Adapter adapter) {
            ReferenceDecoder ref = reference();
            if (adapter == null) return ref;
            LoraSpec ls = adapter.spec();
            for (int l = 0; l < spec.layers(); l++) {
                for (String module : ls.targets()) {
                    int r = ls.rankPattern().getOrDefault(module, ls.r());
                    double alpha = ls.alphaPattern().getOrDefault(module, ls.alpha());
                    double scaling = ls.rslora() ? alpha / Math.sqrt(r) : alpha / r;
                    String block = List.of("gate_proj", "up_proj", "down_proj").contains(module) ? "mlp" : "self_attn";
                    String prefix = "base_model.model.model.layers." + l + "." + block + "." + module;
                    ref.mergeLora(l, module, adapter.weights().get(prefix + ".lora_A.weight").data(),
                            adapter.weights().get(prefix + ".lora_B.weight").data(), r, scaling);
                }
            }
            return ref;
        }
    }

    public record Adapter(String id, Path dir, LoraSpec spec, Map<String, FloatTensor> weights) {}

    public static Backbone writeBackbone(Path dir, BackboneSpec spec, long seed) throws IOException {
        Map<String, FloatTensor> weights = RandomModels.backbone(spec, seed);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(spec.configJson()));
        Files.write(dir.resolve("model.safetensors"), SafetensorsWriter.toBytes(weights, Map.of()));
        return new Backbone(dir, spec, weights);
    }

    public static LoraSpec lora(List<String> targets, int r, double alpha, boolean rslora, Backbone b, double bStd) {
        return new LoraSpec(targets, r, alpha, rslora, b.spec().name(), bStd);
    }

    public static Adapter writeAdapter(Path adaptersDir, String id, Backbone b, LoraSpec spec, long seed) throws IOException {
        Map<String, FloatTensor> weights = RandomModels.lora(b.spec(), spec, seed);
        Path dir = adaptersDir.resolve(id);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("adapter_config.json"), JSON.writeValueAsString(spec.configJson()));
        Files.write(dir.resolve("adapter_model.safetensors"), SafetensorsWriter.toBytes(weights, Map.of("format", "pt")));
        return new Adapter(id, dir, spec, weights);
    }

    public static void writeJson(Path file, Object value) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(value));
    }

    /** A seeded prompt: BOS (1), then ids in [3, 99). */
    public static int[] prompt(long seed, int length) {
        java.util.Random r = new java.util.Random(seed);
        int[] p = new int[length];
        p[0] = 1;
        for (int i = 1; i < length; i++) p[i] = 3 + r.nextInt(96);
        return p;
    }

    /**
     * The reference cases' three adapters: {@code alpha} (q,v rank 4), {@code beta} (every projection,
     * rank 2 with down_proj at rank 6 and alpha 3 by pattern), {@code gamma} (q,k,v,o rank 8, rsLoRA).
     */
    public static Map<String, Adapter> referenceAdapters(Path adaptersDir, Backbone b) throws IOException {
        Map<String, Adapter> adapters = new java.util.HashMap<>();
        adapters.put("alpha", writeAdapter(adaptersDir, "alpha", b, lora(List.of("q_proj", "v_proj"), 4, 8, false, b, 0.3), 101));
        adapters.put("beta", writeAdapter(adaptersDir, "beta", b,
                new LoraSpec(ALL, 2, 4, false, Map.of("down_proj", 6), Map.of("down_proj", 3.0), b.spec().name(), 0.3), 102));
        adapters.put("gamma", writeAdapter(adaptersDir, "gamma", b, lora(List.of("q_proj", "k_proj", "v_proj", "o_proj"), 8, 8, true, b, 0.3), 103));
        return adapters;
    }

    public static int[] concat(int[] a, int[] b) {
        int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    public static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    public static GenerationTask greedy(String requestId, String adapterId, int[] prompt, int maxNew) {
        return new GenerationTask(requestId, adapterId, prompt, maxNew, 0f, 1f, 0, null, true);
    }
}
