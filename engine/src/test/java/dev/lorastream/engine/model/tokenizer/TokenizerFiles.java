package dev.lorastream.engine.model.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Small tokenizer.json files written by the tests, in the tokenizers library's own format:
 * a WordLevel model over whitespace-split words, and a GPT-2 style byte-level BPE.
 * Special tokens: 0 {@code <pad>}, 1 {@code <s>}, 2 {@code </s>}, 3 {@code <unk>}.
 */
final class TokenizerFiles {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> SPECIALS = List.of("<pad>", "<s>", "</s>", "<unk>");

    private TokenizerFiles() {}

    /** A tokenizer.json under construction. */
    static final class Spec {
        final Map<String, Object> root = new LinkedHashMap<>();

        Spec(Map<String, Object> model, Object preTokenizer, Object decoder, List<Map<String, Object>> addedTokens) {
            root.put("version", "1.0");
            root.put("truncation", null);
            root.put("padding", null);
            root.put("added_tokens", addedTokens);
            root.put("normalizer", null);
            root.put("pre_tokenizer", preTokenizer);
            root.put("post_processor", null);
            root.put("decoder", decoder);
            root.put("model", model);
        }

        Spec postProcessor(Object p) { root.put("post_processor", p); return this; }

        Spec set(String key, Object value) { root.put(key, value); return this; }

        @SuppressWarnings("unchecked")
        Map<String, Integer> vocab() { return (Map<String, Integer>) ((Map<String, Object>) root.get("model")).get("vocab"); }

        int id(String token) {
            Integer id = vocab().get(token);
            if (id == null) throw new IllegalArgumentException("no token " + token);
            return id;
        }

        int size() { return vocab().size(); }

        Path writeTo(Path dir) throws IOException {
            Files.createDirectories(dir);
            Path file = dir.resolve("tokenizer.json");
            Files.writeString(file, JSON.writeValueAsString(root));
            return file;
        }
    }

    /** WordLevel over the special tokens and then the words (ids 4, 5, ...), split on whitespace and punctuation. */
    static Spec wordLevel(List<String> words) {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : SPECIALS) vocab.put(s, vocab.size());
        for (String w : words) vocab.put(w, vocab.size());
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "WordLevel");
        model.put("vocab", vocab);
        model.put("unk_token", "<unk>");
        return new Spec(model, Map.of("type", "Whitespace"), null, added(SPECIALS, 0));
    }

    /**
     * Byte-level BPE as GPT-2, Llama 3 and Qwen2 use it: all 256 byte symbols (ids 0..255, in
     * GPT-2's byte-to-unicode order), then one token per merge, then the special tokens as added
     * tokens after the vocabulary.
     */
    static Spec byteLevelBpe(List<String> merges, List<String> addedSpecials) {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(byteSymbol(b)), vocab.size());
        for (String m : merges) vocab.put(m.replace(" ", ""), vocab.size());
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", null);
        model.put("continuing_subword_prefix", null);
        model.put("end_of_word_suffix", null);
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("vocab", vocab);
        model.put("merges", merges);
        Map<String, Object> byteLevel = byteLevel();
        Spec spec = new Spec(model, byteLevel, byteLevel, added(addedSpecials, vocab.size()));
        for (String s : addedSpecials) vocab.put(s, vocab.size());
        return spec.postProcessor(byteLevel);
    }

    static Map<String, Object> byteLevel() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "ByteLevel");
        m.put("add_prefix_space", false);
        m.put("trim_offsets", true);
        m.put("use_regex", true);
        return m;
    }

    /** A TemplateProcessing post-processor putting {@code token} (id {@code id}) before every sequence. */
    static Map<String, Object> prependTemplate(String token, int id) {
        Map<String, Object> special = Map.of("SpecialToken", Map.of("id", token, "type_id", 0));
        Map<String, Object> a = Map.of("Sequence", Map.of("id", "A", "type_id", 0));
        Map<String, Object> b = Map.of("Sequence", Map.of("id", "B", "type_id", 1));
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("type", "TemplateProcessing");
        t.put("single", List.of(special, a));
        t.put("pair", List.of(special, a, special, b));
        t.put("special_tokens", Map.of(token, Map.of("id", token, "ids", List.of(id), "tokens", List.of(token))));
        return t;
    }

    static Map<String, Object> sequence(Object... processors) {
        return Map.of("type", "Sequence", "processors", List.of(processors));
    }

    static void writeJson(Path file, Object value) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, JSON.writeValueAsString(value));
    }

    /** config.json with just what ModelConfig needs. */
    static void writeConfig(Path dir, int vocab, int bos, Object eos) throws IOException {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model_type", "llama");
        c.put("hidden_size", 32);
        c.put("num_hidden_layers", 1);
        c.put("num_attention_heads", 4);
        c.put("intermediate_size", 48);
        c.put("vocab_size", vocab);
        c.put("max_position_embeddings", 64);
        c.put("bos_token_id", bos);
        c.put("eos_token_id", eos);
        writeJson(dir.resolve("config.json"), c);
    }

    /** GPT-2's printable stand-in for a byte. */
    static char byteSymbol(int b) {
        if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) return (char) b;
        int n = 0;
        for (int x = 0; x < b; x++) if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) n++;
        return (char) (256 + n);
    }

    private static List<Map<String, Object>> added(List<String> tokens, int firstId) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("id", firstId + i);
            t.put("content", tokens.get(i));
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
            out.add(t);
        }
        return out;
    }
}
