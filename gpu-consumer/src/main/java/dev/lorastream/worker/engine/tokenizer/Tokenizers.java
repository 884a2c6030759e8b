package dev.lorastream.worker.engine.tokenizer;

import dev.lorastream.worker.engine.model.ModelConfig;
import dev.lorastream.worker.engine.model.ModelFormatException;

import java.nio.file.Files;
import java.nio.file.Path;

/** Picks the tokenizer of a model directory. */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * The character tokenizer when the directory has no tokenizer.json (demo backbones);
     * with a tokenizer.json, a tokenizer that refuses text (token-id prompts still work) until
     * tokenizer.json support lands.
     */
    public static Tokenizer forModel(Path modelDir, ModelConfig config) {
        if (Files.exists(modelDir.resolve("tokenizer.json"))) {
            return new UnsupportedTokenizer(modelDir.resolve("tokenizer.json"), config);
        }
        if (config.vocabSize() < CharTokenizer.VOCAB_SIZE) {
            throw new ModelFormatException(modelDir + ": no tokenizer.json, and vocab_size " + config.vocabSize()
                    + " is smaller than the character tokenizer's " + CharTokenizer.VOCAB_SIZE);
        }
        return new CharTokenizer();
    }
}
