package dev.lorastream.engine.model.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.LibUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.ModelFormatException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A model's {@code tokenizer.json} run by the Hugging Face tokenizers library (through DJL).
 * Normalizer, pre-tokenizer, model, post-processor and decoder are the file's; this class adds
 * what transformers adds around them: {@code add_bos_token} / {@code add_eos_token} of
 * {@code tokenizer_config.json} override the post-processor for BOS and EOS (never adding one
 * already there), decoding skips special tokens, and truncation and padding are off (a prompt too
 * long for the model is refused by the engine, not cut here). Thread-safe.
 */
final class HfTokenizer implements Tokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> OPTIONS = Map.of(
            "addSpecialTokens", "true", "truncation", "false", "padding", "false", "withOverflowingTokens", "false");

    private final HuggingFaceTokenizer hf;
    private final SpecialTokens special;
    private final int vocabSize;
    private final boolean postProcessorAddsBos;
    private final boolean postProcessorAddsEos;

    private HfTokenizer(HuggingFaceTokenizer hf, SpecialTokens special, int vocabSize) {
        this.hf = hf;
        this.special = special;
        this.vocabSize = vocabSize;
        long[] bare = hf.encode("", true, false).getIds();
        this.postProcessorAddsBos = special.bosId() >= 0 && bare.length > 0 && bare[0] == special.bosId();
        this.postProcessorAddsEos = special.eosId() >= 0 && bare.length > (postProcessorAddsBos ? 1 : 0)
                && bare[bare.length - 1] == special.eosId();
    }

    /**
     * Loads {@code modelDir/tokenizer.json} with the special tokens of the directory's
     * tokenizer_config.json, generation_config.json and config.json.
     *
     * @throws ModelFormatException when a file is unreadable or malformed, or does not fit the model's vocabulary
     * @throws IllegalStateException when the tokenizers native library cannot be loaded on this platform
     */
    static HfTokenizer load(Path modelDir, ModelConfig config) {
        Path file = modelDir.resolve("tokenizer.json");
        byte[] bytes;
        JsonNode root;
        try {
            bytes = Files.readAllBytes(file);
            root = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
        SpecialTokens special = SpecialTokens.resolve(modelDir, root, config);
        DjlSettings.apply();
        try {
            LibUtils.checkStatus();
        } catch (RuntimeException e) {
            throw new IllegalStateException("the Hugging Face tokenizers native library did not load: " + e.getMessage()
                    + (e.getCause() != null ? " (" + e.getCause() + ")" : ""), e);
        }
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(bytes), OPTIONS);
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(file + ": the tokenizers library refused it: " + e.getMessage(), e);
        }
        return new HfTokenizer(hf, special, config.vocabSize());
    }

    @Override
    public int[] encode(String text) {
        long[] ids = hf.encode(text, true, false).getIds();
        int from = 0, to = ids.length;
        int bos = special.bosId(), eos = special.eosId();
        boolean startsWithBos = to > 0 && ids[0] == bos;
        boolean prependBos = false, appendEos = false;
        if (special.addBos() != null && bos >= 0) {
            if (special.addBos() && !startsWithBos) prependBos = true;
            else if (!special.addBos() && postProcessorAddsBos && startsWithBos) from = 1;
        }
        boolean endsWithEos = to > from && ids[to - 1] == eos;
        if (special.addEos() != null && eos >= 0) {
            if (special.addEos() && !endsWithEos) appendEos = true;
            else if (!special.addEos() && postProcessorAddsEos && endsWithEos) to--;
        }
        int[] out = new int[(prependBos ? 1 : 0) + (to - from) + (appendEos ? 1 : 0)];
        int n = 0;
        if (prependBos) out[n++] = bos;
        for (int i = from; i < to; i++) out[n++] = Math.toIntExact(ids[i]);
        if (appendEos) out[n] = eos;
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] kept = Arrays.stream(ids).filter(id -> !special.skipIds().contains(id)).asLongStream().toArray();
        return hf.decode(kept, true);
    }

    @Override
    public int vocabSize() { return vocabSize; }

    @Override
    public int bosId() { return special.bosId(); }

    @Override
    public int eosId() { return special.stopIds().isEmpty() ? special.eosId() : special.stopIds().getFirst(); }

    @Override
    public List<Integer> eosIds() { return special.stopIds(); }

    @Override
    public int padId() { return special.padId(); }

    @Override
    public String toString() { return "HfTokenizer[bos=" + bosId() + ", eos=" + eosIds() + ", pad=" + padId() + "]"; }
}
