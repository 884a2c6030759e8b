package dev.lorastream.engine.model.tokenizer;

/**
 * A character-level tokenizer for demo backbones: 0 = pad, 1 = BOS, 2 = EOS, then printable
 * ASCII 32..126 (ids 3..97) and '\n' (98). Other characters become '?'.
 */
public final class CharTokenizer implements Tokenizer {
    public static final int PAD = 0, BOS = 1, EOS = 2;
    private static final int FIRST_CHAR = 3;
    private static final int NEWLINE = FIRST_CHAR + (126 - 32 + 1);
    public static final int VOCAB_SIZE = NEWLINE + 1;

    @Override
    public int[] encode(String text) {
        int[] ids = new int[text.length() + 1];
        ids[0] = BOS;
        for (int i = 0; i < text.length(); i++) ids[i + 1] = idOf(text.charAt(i));
        return ids;
    }

    static int idOf(char ch) {
        if (ch == '\n') return NEWLINE;
        if (ch >= 32 && ch <= 126) return FIRST_CHAR + (ch - 32);
        return FIRST_CHAR + ('?' - 32);
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder(ids.length);
        for (int id : ids) {
            if (id == NEWLINE) sb.append('\n');
            else if (id >= FIRST_CHAR && id < NEWLINE) sb.append((char) (32 + id - FIRST_CHAR));
        }
        return sb.toString();
    }

    @Override
    public int vocabSize() { return VOCAB_SIZE; }

    @Override
    public int bosId() { return BOS; }

    @Override
    public int eosId() { return EOS; }

    @Override
    public int padId() { return PAD; }
}
