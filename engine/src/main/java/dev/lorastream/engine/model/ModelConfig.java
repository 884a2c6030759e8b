package dev.lorastream.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The parts of a Hugging Face {@code config.json} that shape a Llama-family decoder
 * (model_type llama, mistral or qwen2).
 *
 * @param name            a short name of the backbone: the last segment of {@code _name_or_path}, or the directory name
 * @param eosTokenIds     all end-of-sequence ids (config may give one or a list); empty when none
 * @param bosTokenId      -1 when none
 * @param ropeScaling     null for plain RoPE
 * @param slidingWindow   0 when attention is not windowed
 */
public record ModelConfig(String modelType, String name, int hiddenSize, int numHiddenLayers, int numAttentionHeads,
                          int numKeyValueHeads, int headDim, int intermediateSize, int vocabSize, int maxPositionEmbeddings,
                          double ropeTheta, double rmsNormEps, boolean tieWordEmbeddings, boolean qkvBias, boolean oBias,
                          boolean mlpBias, int bosTokenId, List<Integer> eosTokenIds, RopeScaling ropeScaling, int slidingWindow) {

    public static final Set<String> SUPPORTED_TYPES = Set.of("llama", "mistral", "qwen2");

    /** RoPE scaling variants that only change the inverse frequencies. */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        check(hiddenSize > 0 && numHiddenLayers > 0 && numAttentionHeads > 0 && numKeyValueHeads > 0 && intermediateSize > 0
                && vocabSize > 0 && maxPositionEmbeddings > 0 && headDim > 0, "sizes must be positive");
        check(numAttentionHeads % numKeyValueHeads == 0,
                "num_attention_heads (" + numAttentionHeads + ") must be a multiple of num_key_value_heads (" + numKeyValueHeads + ")");
        check(headDim % 2 == 0, "head_dim (" + headDim + ") must be even for rotary embeddings");
        check(ropeTheta > 0, "rope_theta must be positive");
        check(rmsNormEps > 0, "rms_norm_eps must be positive");
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new ModelFormatException("config.json: " + message);
    }

    /** The sequence length (prompt plus generated tokens) the engine accepts. */
    public int maxSequenceLength() {
        return slidingWindow > 0 ? Math.min(slidingWindow, maxPositionEmbeddings) : maxPositionEmbeddings;
    }

    /** The first end-of-sequence id, or -1. */
    public int eosTokenId() { return eosTokenIds.isEmpty() ? -1 : eosTokenIds.getFirst(); }

    /** Whether this projection has a bias vector in the checkpoint. */
    public boolean hasBias(Projection p) {
        return switch (p) {
            case Q_PROJ, K_PROJ, V_PROJ -> qkvBias;
            case O_PROJ -> oBias;
            default -> mlpBias;
        };
    }

    /** Whether {@code dir} looks like a model directory: it has the {@code config.json} that {@link #read} reads. */
    public static boolean isModelDir(Path dir) {
        return Files.isRegularFile(dir.resolve("config.json"));
    }

    public static ModelConfig read(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new ModelFormatException(file + ": not a JSON object");
        try {
            return parse(root, modelDir.toAbsolutePath().normalize().getFileName().toString());
        } catch (ModelFormatException e) {
            throw new ModelFormatException(file + ": " + e.getMessage().replaceFirst("^config\\.json: ", ""), e);
        }
    }

    static ModelConfig parse(JsonNode c, String dirName) {
        String type = text(c, "model_type", null);
        if (type == null || !SUPPORTED_TYPES.contains(type)) {
            throw new ModelFormatException("config.json: model_type '" + type + "' is not supported (supported: llama, mistral, qwen2)");
        }
        String act = text(c, "hidden_act", "silu");
        if (!act.equals("silu")) throw new ModelFormatException("config.json: hidden_act '" + act + "' is not supported (only silu)");
        int hidden = required(c, "hidden_size");
        int heads = required(c, "num_attention_heads");
        int kvHeads = c.hasNonNull("num_key_value_heads") ? c.get("num_key_value_heads").asInt() : heads;
        int headDim = c.hasNonNull("head_dim") ? c.get("head_dim").asInt() : hidden / heads;
        if (!c.hasNonNull("head_dim") && hidden % heads != 0) {
            throw new ModelFormatException("config.json: hidden_size (" + hidden + ") is not a multiple of num_attention_heads (" + heads + ")");
        }
        boolean qwen2 = type.equals("qwen2");
        boolean attentionBias = c.path("attention_bias").asBoolean(false);
        boolean qkvBias = qwen2 || attentionBias;
        boolean oBias = !qwen2 && attentionBias;
        boolean mlpBias = c.path("mlp_bias").asBoolean(false);
        String name = dirName;
        String nameOrPath = text(c, "_name_or_path", "");
        if (!nameOrPath.isBlank()) {
            String[] parts = nameOrPath.replace('\\', '/').split("/");
            name = parts[parts.length - 1];
        }
        List<Integer> eos = new ArrayList<>();
        JsonNode eosNode = c.get("eos_token_id");
        if (eosNode != null && eosNode.isArray()) eosNode.forEach(n -> eos.add(n.asInt()));
        else if (eosNode != null && eosNode.isNumber()) eos.add(eosNode.asInt());
        int sliding = 0;
        boolean useSliding = type.equals("mistral") || c.path("use_sliding_window").asBoolean(false);
        if (useSliding && c.hasNonNull("sliding_window")) sliding = c.get("sliding_window").asInt();
        return new ModelConfig(type, name, hidden, required(c, "num_hidden_layers"), heads, kvHeads, headDim,
                required(c, "intermediate_size"), required(c, "vocab_size"), required(c, "max_position_embeddings"),
                c.path("rope_theta").asDouble(10000.0), c.path("rms_norm_eps").asDouble(1e-6),
                c.path("tie_word_embeddings").asBoolean(false), qkvBias, oBias, mlpBias,
                c.hasNonNull("bos_token_id") ? c.get("bos_token_id").asInt() : -1, eos, ropeScaling(c), sliding);
    }

    private static RopeScaling ropeScaling(JsonNode c) {
        JsonNode rs = c.get("rope_scaling");
        if (rs == null || rs.isNull()) return null;
        String type = text(rs, "rope_type", text(rs, "type", "default"));
        return switch (type) {
            case "default" -> null;
            case "linear" -> new RopeScaling("linear", rs.path("factor").asDouble(1.0), 0, 0, 0);
            case "llama3" -> new RopeScaling("llama3", rs.path("factor").asDouble(8.0), rs.path("low_freq_factor").asDouble(1.0),
                    rs.path("high_freq_factor").asDouble(4.0), rs.path("original_max_position_embeddings").asInt(8192));
            default -> throw new ModelFormatException("config.json: rope_scaling type '" + type + "' is not supported (default, linear, llama3)");
        };
    }

    private static int required(JsonNode c, String key) {
        JsonNode n = c.get(key);
        if (n == null || !n.canConvertToInt()) throw new ModelFormatException("config.json: '" + key + "' is missing or not an integer");
        return n.asInt();
    }

    private static String text(JsonNode c, String key, String def) {
        JsonNode n = c.get(key);
        return n == null || n.isNull() ? def : n.asText();
    }
}
