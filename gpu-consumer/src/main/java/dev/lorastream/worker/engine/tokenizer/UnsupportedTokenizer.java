package dev.lorastream.worker.engine.tokenizer;

import dev.lorastream.worker.engine.model.ModelConfig;

import java.nio.file.Path;

/** Stands in for a tokenizer.json this build cannot read yet: text fails clearly, token ids pass through. */
final class UnsupportedTokenizer implements Tokenizer {
    private final Path file;
    private final ModelConfig config;

    UnsupportedTokenizer(Path file, ModelConfig config) {
        this.file = file;
        this.config = config;
    }

    @Override
    public int[] encode(String text) {
        throw new UnsupportedOperationException(file + ": tokenizer.json is not supported yet; send prompt_token_ids instead of prompt text");
    }

    @Override
    public String decode(int[] ids) {
        throw new UnsupportedOperationException(file + ": tokenizer.json is not supported yet; use the response's token ids");
    }

    @Override
    public int vocabSize() { return config.vocabSize(); }

    @Override
    public int bosId() { return config.bosTokenId(); }

    @Override
    public int eosId() { return config.eosTokenId(); }

    @Override
    public int padId() { return Math.max(0, config.eosTokenId()); }
}
