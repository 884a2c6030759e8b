package dev.lorastream.engine.demo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lorastream.engine.model.FloatTensor;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.model.WeightNames;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Deterministic random Llama-family backbones and PEFT LoRA adapters (fixed seeds,
 * {@link java.util.Random}'s specified Gaussian), scaled so that a forward pass neither
 * explodes nor flattens: projections ~ N(0, 1/in), embeddings ~ N(0, 1) (N(0, 4/hidden) when tied), norms ~ 1.
 */
public final class RandomModels {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private RandomModels() {}

    /** The shape of a backbone; {@code attentionBias} means q/k/v biases for qwen2, q/k/v/o for llama. */
    public record BackboneSpec(String modelType, String name, int hidden, int layers, int heads, int kvHeads, int intermediate,
                               int vocab, int maxPositions, double ropeTheta, double rmsNormEps, boolean tieEmbeddings,
                               boolean attentionBias, int bosId, int eosId) {

        public int headDim() { return hidden / heads; }

        public int in(Projection p) {
            return switch (p) {
                case O_PROJ -> heads * headDim();
                case DOWN_PROJ -> intermediate;
                default -> hidden;
            };
        }

        public int out(Projection p) {
            return switch (p) {
                case Q_PROJ -> heads * headDim();
                case K_PROJ, V_PROJ -> kvHeads * headDim();
                case GATE_PROJ, UP_PROJ -> intermediate;
                default -> hidden;
            };
        }

        public boolean hasBias(Projection p) {
            boolean qkv = p == Projection.Q_PROJ || p == Projection.K_PROJ || p == Projection.V_PROJ;
            if (modelType.equals("qwen2")) return qkv;
            return attentionBias && (qkv || p == Projection.O_PROJ);
        }

        /** config.json content. */
        public Map<String, Object> configJson() {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("_name_or_path", name);
            c.put("architectures", List.of(switch (modelType) {
                case "qwen2" -> "Qwen2ForCausalLM";
                case "mistral" -> "MistralForCausalLM";
                default -> "LlamaForCausalLM";
            }));
            c.put("model_type", modelType);
            c.put("hidden_size", hidden);
            c.put("num_hidden_layers", layers);
            c.put("num_attention_heads", heads);
            c.put("num_key_value_heads", kvHeads);
            c.put("intermediate_size", intermediate);
            c.put("vocab_size", vocab);
            c.put("max_position_embeddings", maxPositions);
            c.put("rope_theta", ropeTheta);
            c.put("rms_norm_eps", rmsNormEps);
            c.put("tie_word_embeddings", tieEmbeddings);
            if (!modelType.equals("qwen2")) c.put("attention_bias", attentionBias);
            c.put("hidden_act", "silu");
            c.put("bos_token_id", bosId);
            c.put("eos_token_id", eosId);
            c.put("torch_dtype", "float32");
            return c;
        }
    }

    /** A LoRA adapter's configuration; {@code bStd} sets the strength of its delta. */
    public record LoraSpec(List<String> targets, int r, double alpha, boolean rslora, Map<String, Integer> rankPattern,
                           Map<String, Double> alphaPattern, String baseModel, double bStd) {

        public LoraSpec(List<String> targets, int r, double alpha, boolean rslora, String baseModel, double bStd) {
            this(targets, r, alpha, rslora, Map.of(), Map.of(), baseModel, bStd);
        }

        /** Rank of one module, following rank_pattern on the module name (exact name matches only). */
        public int rankOf(Projection p) { return rankPattern.getOrDefault(p.moduleName(), r); }

        /** adapter_config.json content. */
        public Map<String, Object> configJson() {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("base_model_name_or_path", baseModel);
            c.put("bias", "none");
            c.put("fan_in_fan_out", false);
            c.put("lora_alpha", alpha);
            c.put("lora_dropout", 0.0);
            c.put("peft_type", "LORA");
            c.put("r", r);
            c.put("rank_pattern", new TreeMap<>(rankPattern));
            c.put("alpha_pattern", new TreeMap<>(alphaPattern));
            c.put("target_modules", targets);
            c.put("task_type", "CAUSAL_LM");
            c.put("use_dora", false);
            c.put("use_rslora", rslora);
            return c;
        }
    }

    /** Backbone tensors by Hugging Face name. */
    public static Map<String, FloatTensor> backbone(BackboneSpec s, long seed) {
        Random rnd = new Random(seed);
        Map<String, FloatTensor> w = new LinkedHashMap<>();
        // a tied embedding is also the LM head: scale it like one, so logits stay O(1..10)
        double embedStd = s.tieEmbeddings() ? 2.0 / Math.sqrt(s.hidden()) : 1.0;
        w.put(WeightNames.EMBED_TOKENS, gaussian(rnd, embedStd, s.vocab(), s.hidden()));
        for (int l = 0; l < s.layers(); l++) {
            w.put(WeightNames.inputNorm(l), around(rnd, 1.0, 0.1, s.hidden()));
            w.put(WeightNames.postAttentionNorm(l), around(rnd, 1.0, 0.1, s.hidden()));
            for (Projection p : Projection.values()) {
                w.put(WeightNames.weight(l, p), gaussian(rnd, 1.0 / Math.sqrt(s.in(p)), s.out(p), s.in(p)));
                if (s.hasBias(p)) w.put(WeightNames.bias(l, p), gaussian(rnd, 0.1, s.out(p)));
            }
        }
        w.put(WeightNames.FINAL_NORM, around(rnd, 1.0, 0.1, s.hidden()));
        if (!s.tieEmbeddings()) w.put(WeightNames.LM_HEAD, gaussian(rnd, 2.0 / Math.sqrt(s.hidden()), s.vocab(), s.hidden()));
        return w;
    }

    /** PEFT tensors (lora_A [r, in], lora_B [out, r]) for every layer and target. */
    public static Map<String, FloatTensor> lora(BackboneSpec s, LoraSpec spec, long seed) {
        Random rnd = new Random(seed);
        Map<String, FloatTensor> w = new LinkedHashMap<>();
        for (int l = 0; l < s.layers(); l++) {
            for (String target : spec.targets()) {
                Projection p = Projection.byModuleName(target).orElseThrow();
                int r = spec.rankOf(p);
                String prefix = "base_model.model." + p.modulePath(l);
                w.put(prefix + ".lora_A.weight", gaussian(rnd, 1.0 / Math.sqrt(s.in(p)), r, s.in(p)));
                w.put(prefix + ".lora_B.weight", gaussian(rnd, spec.bStd(), s.out(p), r));
            }
        }
        return w;
    }

    static FloatTensor gaussian(Random rnd, double std, int... shape) {
        float[] d = new float[(int) FloatTensor.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = (float) (rnd.nextGaussian() * std);
        return new FloatTensor(shape, d);
    }

    static FloatTensor around(Random rnd, double mean, double std, int n) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = (float) (mean + rnd.nextGaussian() * std);
        return new FloatTensor(new int[] {n}, d);
    }

    static byte[] json(Object value) {
        try {
            return (JSON.writeValueAsString(value) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes the bytes unless the file already holds exactly them (atomic replace otherwise).
     *
     * @return whether the file was written
     */
    public static boolean writeIfChanged(Path file, byte[] bytes) throws IOException {
        if (Files.isRegularFile(file) && Files.size(file) == bytes.length && Arrays.equals(Files.readAllBytes(file), bytes)) return false;
        Files.createDirectories(file.getParent());
        Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return true;
    }
}
