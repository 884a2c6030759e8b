package dev.lorastream.engine.model.tokenizer;

import java.util.List;

/** Text to token ids and back. */
public interface Tokenizer {
    /** Token ids of the text, with BOS first when the model uses one. */
    int[] encode(String text);

    /** Text of the ids; special tokens (padding, BOS, EOS) are skipped. */
    String decode(int[] ids);

    /** Ids are in [0, vocabSize). */
    int vocabSize();

    /** -1 when none. */
    int bosId();

    /** The preferred end-of-sequence id; -1 when none. */
    int eosId();

    /**
     * Every id that ends a generation (generation_config.json may list several, e.g. end of text
     * and end of turn), {@link #eosId()} first; empty when none.
     */
    default List<Integer> eosIds() { return eosId() < 0 ? List.of() : List.of(eosId()); }

    /** The id used to pad rows of a batch. */
    int padId();
}
