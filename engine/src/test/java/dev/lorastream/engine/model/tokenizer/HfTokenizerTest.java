package dev.lorastream.engine.model.tokenizer;

import ai.djl.util.Utils;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.lorastream.engine.model.tokenizer.TokenizerFiles.byteLevel;
import static dev.lorastream.engine.model.tokenizer.TokenizerFiles.prependTemplate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** tokenizer.json files written here, run by the Hugging Face tokenizers library. */
class HfTokenizerTest {
    private static final List<String> WORDS = List.of("hello", "world", "the", "cat", "sat", ",", "!");
    private static final int BOS = 1, EOS = 2, PAD = 0;

    @TempDir
    Path dir;

    private TokenizerFiles.Spec words() { return TokenizerFiles.wordLevel(WORDS); }

    private Tokenizer load(TokenizerFiles.Spec spec, int vocab) throws Exception {
        spec.writeTo(dir);
        if (!Files.exists(dir.resolve("config.json"))) TokenizerFiles.writeConfig(dir, vocab, BOS, EOS);
        return Tokenizers.forModel(dir, ModelConfig.read(dir));
    }

    private Tokenizer loadWords(TokenizerFiles.Spec spec) throws Exception { return load(spec, 16); }

    private static int[] ids(TokenizerFiles.Spec spec, String... tokens) {
        int[] out = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) out[i] = spec.id(tokens[i]);
        return out;
    }

    @Test
    void templatePostProcessorPutsBosFirstOnce() throws Exception {
        TokenizerFiles.Spec spec = words().postProcessor(prependTemplate("<s>", BOS));
        Tokenizer tok = loadWords(spec);

        int[] ids = tok.encode("hello world!");

        assertThat(tok).isInstanceOf(HfTokenizer.class);
        assertThat(ids).containsExactly(BOS, spec.id("hello"), spec.id("world"), spec.id("!"));
    }

    @Test
    void decodeSkipsSpecialTokensAndInvertsEncode() throws Exception {
        Tokenizer tok = loadWords(words().postProcessor(prependTemplate("<s>", BOS)));
        int[] ids = tok.encode("the cat sat");
        int[] withSpecials = new int[ids.length + 2];
        System.arraycopy(ids, 0, withSpecials, 0, ids.length);
        withSpecials[ids.length] = EOS;
        withSpecials[ids.length + 1] = PAD;

        assertThat(tok.decode(withSpecials)).isEqualTo("the cat sat");
    }

    @Test
    void unknownWordsBecomeTheUnknownToken() throws Exception {
        TokenizerFiles.Spec spec = words();
        Tokenizer tok = loadWords(spec);

        assertThat(tok.encode("hello dog")).containsExactly(spec.id("hello"), spec.id("<unk>"));
    }

    @Test
    void addBosTokenDoesNotDoubleTheBosOfThePostProcessor() throws Exception {
        TokenizerFiles.Spec spec = words().postProcessor(prependTemplate("<s>", BOS));
        TokenizerFiles.writeJson(dir.resolve("tokenizer_config.json"), Map.of("add_bos_token", true, "bos_token", "<s>", "eos_token", "</s>"));
        Tokenizer tok = loadWords(spec);

        assertThat(tok.encode("the cat")).containsExactly(BOS, spec.id("the"), spec.id("cat"));
    }

    @Test
    void addBosTokenAddsBosWhenThePostProcessorDoesNot() throws Exception {
        TokenizerFiles.Spec spec = words();
        TokenizerFiles.writeJson(dir.resolve("tokenizer_config.json"),
                Map.of("add_bos_token", true, "bos_token", Map.of("content", "<s>", "special", true), "eos_token", "</s>"));
        Tokenizer tok = loadWords(spec);

        assertThat(tok.encode("the cat")).containsExactly(BOS, spec.id("the"), spec.id("cat"));
        assertThat(tok.encode("")).containsExactly(BOS);
    }

    @Test
    void addBosTokenFalseOverridesTheTemplate() throws Exception {
        TokenizerFiles.Spec spec = words().postProcessor(prependTemplate("<s>", BOS));
        TokenizerFiles.writeJson(dir.resolve("tokenizer_config.json"), Map.of("add_bos_token", false, "bos_token", "<s>"));
        Tokenizer tok = loadWords(spec);

        assertThat(tok.encode("the cat")).containsExactly(spec.id("the"), spec.id("cat"));
    }

    @Test
    void addEosTokenAppendsTheTokenizersEos() throws Exception {
        TokenizerFiles.Spec spec = words().postProcessor(prependTemplate("<s>", BOS));
        TokenizerFiles.writeJson(dir.resolve("tokenizer_config.json"), Map.of("add_eos_token", true, "bos_token", "<s>", "eos_token", "</s>"));
        Tokenizer tok = loadWords(spec);

        assertThat(tok.encode("cat")).containsExactly(BOS, spec.id("cat"), EOS);
    }

    @Test
    void withoutPostProcessorOrTokenizerConfigNoBosIsAddedButConfigsIdsAreReported() throws Exception {
        TokenizerFiles.Spec spec = words();
        Tokenizer tok = loadWords(spec);

        assertThat(tok.encode("cat sat")).containsExactly(spec.id("cat"), spec.id("sat"));
        assertThat(tok.bosId()).isEqualTo(BOS);
        assertThat(tok.eosId()).isEqualTo(EOS);
        assertThat(tok.eosIds()).containsExactly(EOS);
        assertThat(tok.padId()).isEqualTo(EOS);
        assertThat(tok.vocabSize()).isEqualTo(16);
    }

    @Test
    void eosIdsComeFromGenerationConfigBeforeConfigJson() throws Exception {
        TokenizerFiles.Spec spec = words();
        TokenizerFiles.writeJson(dir.resolve("generation_config.json"), Map.of("eos_token_id", List.of(spec.id("!"), EOS)));
        Tokenizer tok = loadWords(spec);

        assertThat(tok.eosIds()).containsExactly(spec.id("!"), EOS);
        assertThat(tok.eosId()).isEqualTo(spec.id("!"));
    }

    @Test
    void padTokenOfTokenizerConfigIsThePadId() throws Exception {
        TokenizerFiles.writeJson(dir.resolve("tokenizer_config.json"), Map.of("pad_token", "<pad>"));
        Tokenizer tok = loadWords(words());

        assertThat(tok.padId()).isEqualTo(PAD);
    }

    @Test
    void truncationAndPaddingOfTokenizerJsonAreNotApplied() throws Exception {
        TokenizerFiles.Spec spec = words()
                .set("truncation", Map.of("direction", "Right", "max_length", 2, "strategy", "LongestFirst", "stride", 0))
                .set("padding", Map.of("strategy", Map.of("Fixed", 12), "direction", "Right", "pad_to_multiple_of", 4,
                        "pad_id", PAD, "pad_type_id", 0, "pad_token", "<pad>"));
        Tokenizer tok = loadWords(spec);

        assertThat(tok.encode("the cat sat , hello world")).hasSize(6).doesNotContain(PAD);
    }

    @Test
    void byteLevelBpeAppliesMergesAndRoundTripsAnyText() throws Exception {
        TokenizerFiles.Spec spec = TokenizerFiles.byteLevelBpe(List.of("h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or"), List.of("<|endoftext|>"));
        TokenizerFiles.writeConfig(dir, spec.size() + 3, -1, spec.id("<|endoftext|>"));
        Tokenizer tok = load(spec, 0);
        String text = "hello world, café 🙂!\nnew line";

        int[] ids = tok.encode(text);

        assertThat(ids[0]).isEqualTo(spec.id("hello"));
        assertThat(ids[1]).isEqualTo(spec.id("Ġwor"));
        assertThat(tok.decode(ids)).isEqualTo(text);
        assertThat(tok.bosId()).isEqualTo(-1);
    }

    @Test
    void byteLevelBpeWithSequencePostProcessorAddsBeginOfTextOnce() throws Exception {
        TokenizerFiles.Spec spec = TokenizerFiles.byteLevelBpe(List.of("h i"), List.of("<|begin_of_text|>", "<|end_of_text|>"));
        int bot = spec.id("<|begin_of_text|>");
        spec.postProcessor(TokenizerFiles.sequence(byteLevel(), prependTemplate("<|begin_of_text|>", bot)));
        TokenizerFiles.writeConfig(dir, spec.size(), bot, spec.id("<|end_of_text|>"));
        TokenizerFiles.writeJson(dir.resolve("tokenizer_config.json"), Map.of("bos_token", "<|begin_of_text|>", "eos_token", "<|end_of_text|>"));
        Tokenizer tok = load(spec, 0);

        int[] ids = tok.encode("hi hi");

        assertThat(ids).containsExactly(bot, spec.id("hi"), spec.id("Ġ"), spec.id("hi"));
        assertThat(tok.decode(ids)).isEqualTo("hi hi");
    }

    @Test
    void tokenIdsBeyondTheModelsVocabularyAreRefused() throws Exception {
        TokenizerFiles.Spec spec = words();
        TokenizerFiles.writeConfig(dir, spec.size() - 1, BOS, EOS);

        assertThatThrownBy(() -> load(spec, 0))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer.json")
                .hasMessageContaining("token id " + (spec.size() - 1))
                .hasMessageContaining("vocab_size is " + (spec.size() - 1));
    }

    @Test
    void specialTokenMissingFromTheVocabularyIsRefused() throws Exception {
        TokenizerFiles.writeJson(dir.resolve("tokenizer_config.json"), Map.of("bos_token", "<|im_start|>"));

        assertThatThrownBy(() -> loadWords(words()))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tokenizer_config.json")
                .hasMessageContaining("bos_token '<|im_start|>'");
    }

    @Test
    void fileTheLibraryCannotParseIsRefusedNamingIt() throws Exception {
        TokenizerFiles.Spec spec = words();
        spec.root.put("model", Map.of("type", "NoSuchModel", "vocab", Map.of("a", 0)));

        assertThatThrownBy(() -> loadWords(spec))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(dir.resolve("tokenizer.json").toString());
    }

    @Test
    void notJsonIsRefusedNamingTheFile() throws Exception {
        TokenizerFiles.writeConfig(dir, 16, BOS, EOS);
        Files.writeString(dir.resolve("tokenizer.json"), "{ not json");

        assertThatThrownBy(() -> Tokenizers.forModel(dir, ModelConfig.read(dir)))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(dir.resolve("tokenizer.json") + ": cannot read");
    }

    @Test
    void loadingKeepsDjlOfflineOnTheJarsCpuLibraryWithoutTelemetry() throws Exception {
        assumeTrue(System.getenv("DJL_OFFLINE") == null && System.getenv("RUST_FLAVOR") == null && System.getenv("OPT_OUT_TRACKING") == null,
                "DJL settings given by the environment win");
        loadWords(words());

        assertThat(Utils.isOfflineMode()).isTrue();
        assertThat(Utils.getEnvOrSystemProperty("RUST_FLAVOR")).isEqualTo("cpu");
        assertThat(Utils.getEnvOrSystemProperty("OPT_OUT_TRACKING")).isEqualTo("true");
    }

    @Test
    void withoutTokenizerJsonTheCharacterTokenizerIsUsed() throws Exception {
        TokenizerFiles.writeConfig(dir, CharTokenizer.VOCAB_SIZE, CharTokenizer.BOS, CharTokenizer.EOS);

        assertThat(Tokenizers.forModel(dir, ModelConfig.read(dir))).isInstanceOf(CharTokenizer.class);
    }
}
