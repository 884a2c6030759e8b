package dev.lorastream.engine.model.tokenizer;

import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.ModelFormatException;

import java.nio.file.Files;
import java.nio.file.Path;

/** Picks the tokenizer of a model directory. */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * The model's {@code tokenizer.json}, run by the Hugging Face tokenizers library, when the
     * directory has one; otherwise the character tokenizer of the demo backbones.
     *
     * @throws ModelFormatException when tokenizer.json (or tokenizer_config.json, generation_config.json)
     *                              is malformed or does not fit the model's vocabulary, or, without a
     *                              tokenizer.json, the vocabulary is too small for the character tokenizer
     */
    public static Tokenizer forModel(Path modelDir, ModelConfig config) {
        if (Files.exists(modelDir.resolve("tokenizer.json"))) return HfTokenizer.load(modelDir, config);
        if (config.vocabSize() < CharTokenizer.VOCAB_SIZE) {
            throw new ModelFormatException(modelDir + ": no tokenizer.json, and vocab_size " + config.vocabSize()
                    + " is smaller than the character tokenizer's " + CharTokenizer.VOCAB_SIZE);
        }
        return new CharTokenizer();
    }
}
