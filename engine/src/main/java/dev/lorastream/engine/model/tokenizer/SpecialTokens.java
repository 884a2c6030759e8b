package dev.lorastream.engine.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.ModelFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The special tokens of a Hugging Face model directory, resolved as transformers does: the BOS,
 * EOS, PAD and UNK strings of {@code tokenizer_config.json} (plain strings or AddedToken objects)
 * mapped to ids through {@code tokenizer.json}; {@code add_bos_token} / {@code add_eos_token} when
 * that file sets them; the ids generation stops at from {@code generation_config.json}, else
 * {@code config.json}, else the tokenizer's EOS.
 *
 * @param bosId     the tokenizer's BOS, else config.json's bos_token_id; -1 when none
 * @param eosId     the tokenizer's EOS (what add_eos_token appends), else config.json's first eos id; -1 when none
 * @param stopIds   the end-of-sequence ids of generation, first one preferred; may be empty
 * @param padId     pad_token, else generation_config's pad_token_id, else the first stop id, else 0
 * @param addBos    tokenizer_config.json's add_bos_token; null when it does not say (the post-processor decides)
 * @param addEos    tokenizer_config.json's add_eos_token; null when it does not say
 * @param skipIds   ids decode drops besides the tokenizer's own special added tokens
 * @param maxId     the largest id tokenizer.json can produce
 */
record SpecialTokens(int bosId, int eosId, List<Integer> stopIds, int padId, Boolean addBos, Boolean addEos,
                     Set<Integer> skipIds, int maxId) {
    static final String TOKENIZER_CONFIG = "tokenizer_config.json", GENERATION_CONFIG = "generation_config.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    SpecialTokens {
        stopIds = List.copyOf(stopIds);
        skipIds = Set.copyOf(skipIds);
    }

    /**
     * @param tokenizerJson the parsed tokenizer.json
     * @throws ModelFormatException when a file is malformed, names a token tokenizer.json lacks, or
     *                              tokenizer.json has ids the model's vocabulary does not
     */
    static SpecialTokens resolve(Path modelDir, JsonNode tokenizerJson, ModelConfig config) {
        Path tokenizerFile = modelDir.resolve("tokenizer.json");
        Map<String, Integer> ids = new HashMap<>();
        int maxId = tokenIds(tokenizerJson, tokenizerFile, ids);
        if (maxId >= config.vocabSize()) {
            throw new ModelFormatException(tokenizerFile + ": has token id " + maxId + " but config.json's vocab_size is " + config.vocabSize());
        }
        Path tcFile = modelDir.resolve(TOKENIZER_CONFIG);
        JsonNode tc = readOptional(tcFile);
        JsonNode gen = readOptional(modelDir.resolve(GENERATION_CONFIG));

        int bos = tokenId(tc, "bos_token", ids, tcFile);
        if (bos < 0) bos = config.bosTokenId();
        int eos = tokenId(tc, "eos_token", ids, tcFile);
        if (eos < 0) eos = config.eosTokenId();
        List<Integer> stop = idList(gen.get("eos_token_id"), modelDir.resolve(GENERATION_CONFIG));
        if (stop.isEmpty()) stop = config.eosTokenIds();
        if (stop.isEmpty() && eos >= 0) stop = List.of(eos);
        int declaredPad = tokenId(tc, "pad_token", ids, tcFile);
        int pad = declaredPad;
        if (pad < 0 && gen.path("pad_token_id").canConvertToInt()) pad = gen.get("pad_token_id").asInt();
        if (pad < 0) pad = stop.isEmpty() ? 0 : stop.getFirst();

        Set<Integer> skip = new LinkedHashSet<>(stop);
        for (int id : new int[] {bos, eos, declaredPad, tokenId(tc, "unk_token", ids, tcFile)}) if (id >= 0) skip.add(id);
        for (JsonNode t : tc.path("additional_special_tokens")) {
            Integer id = ids.get(content(t));
            if (id != null) skip.add(id);
        }
        for (int id : skip) {
            if (id >= config.vocabSize()) {
                throw new ModelFormatException(modelDir + ": special token id " + id + " is outside config.json's vocab_size " + config.vocabSize());
            }
        }
        return new SpecialTokens(bos, eos, stop, pad, flag(tc, "add_bos_token"), flag(tc, "add_eos_token"), skip, maxId);
    }

    /** Fills content-to-id from the model's vocabulary and the added tokens; returns the largest id. */
    private static int tokenIds(JsonNode root, Path file, Map<String, Integer> ids) {
        if (root == null || !root.isObject() || !root.path("model").isObject()) {
            throw new ModelFormatException(file + ": not a tokenizers JSON file (no 'model' object)");
        }
        int max = -1;
        JsonNode vocab = root.get("model").get("vocab");
        if (vocab != null && vocab.isObject()) {
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                ids.put(e.getKey(), e.getValue().asInt());
                max = Math.max(max, e.getValue().asInt());
            }
        } else if (vocab != null && vocab.isArray()) { // Unigram: [[piece, score], ...], the id is the index
            for (int i = 0; i < vocab.size(); i++) ids.put(vocab.get(i).path(0).asText(), i);
            max = vocab.size() - 1;
        }
        for (JsonNode t : root.path("added_tokens")) {
            int id = t.path("id").asInt(-1);
            ids.put(t.path("content").asText(), id);
            max = Math.max(max, id);
        }
        if (max < 0) throw new ModelFormatException(file + ": holds no tokens");
        return max;
    }

    /** The id of a special token named in tokenizer_config.json; -1 when not named. */
    private static int tokenId(JsonNode tc, String key, Map<String, Integer> ids, Path file) {
        String content = content(tc.get(key));
        if (content == null) return -1;
        Integer id = ids.get(content);
        if (id == null) throw new ModelFormatException(file + ": " + key + " '" + content + "' is not a token of tokenizer.json");
        return id;
    }

    /** A token given as "text" or as {"content": "text", ...}; null when absent. */
    private static String content(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (n.isTextual()) return n.asText();
        JsonNode c = n.get("content");
        return c == null || c.isNull() ? null : c.asText();
    }

    private static Boolean flag(JsonNode tc, String key) {
        JsonNode n = tc.get(key);
        return n != null && n.isBoolean() ? n.asBoolean() : null;
    }

    private static List<Integer> idList(JsonNode n, Path file) {
        List<Integer> out = new ArrayList<>();
        if (n == null || n.isNull()) return out;
        if (n.canConvertToInt()) out.add(n.asInt());
        else if (n.isArray()) n.forEach(x -> out.add(x.asInt()));
        else throw new ModelFormatException(file + ": eos_token_id must be an integer or a list of integers");
        return out;
    }

    private static JsonNode readOptional(Path file) {
        if (!Files.isRegularFile(file)) return JSON.createObjectNode();
        try {
            JsonNode n = JSON.readTree(Files.readString(file));
            if (n == null || !n.isObject()) throw new ModelFormatException(file + ": not a JSON object");
            return n;
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }
}
