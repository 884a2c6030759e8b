package dev.lorastream.worker.engine.tokenizer;

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

    /** -1 when none. */
    int eosId();

    /** The id used to pad rows of a batch. */
    int padId();
}
