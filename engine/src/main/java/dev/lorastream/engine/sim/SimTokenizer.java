package dev.lorastream.engine.sim;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The simulated engine's tokenizer: one token per UTF-8 byte, id = byte + {@value #BYTE_OFFSET}, with
 * BOS first. Ids 0, 1, 2 are PAD, BOS and EOS. Decoding skips them, turns byte ids back into bytes, and
 * shows an id above the byte range (what the simulated engine generates, mostly) as one lowercase
 * letter, {@code 'a' + (id - FIRST_WORD_ID) % 26}, so that a simulated response is text of one character
 * per token. Deterministic, stateless, thread-safe.
 */
public final class SimTokenizer {
    public static final int PAD = 0, BOS = 1, EOS = 2;
    public static final int BYTE_OFFSET = 3;
    /** The first id above the byte ids. */
    public static final int FIRST_WORD_ID = BYTE_OFFSET + 256;
    /** The smallest vocabulary: the byte ids and 26 ids above them for generated tokens. */
    public static final int MIN_VOCAB = FIRST_WORD_ID + 26;

    private SimTokenizer() {}

    /** BOS, then one id per UTF-8 byte of the text. */
    public static int[] encode(String text) {
        Objects.requireNonNull(text, "text");
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length + 1];
        ids[0] = BOS;
        for (int i = 0; i < bytes.length; i++) ids[i + 1] = (bytes[i] & 0xff) + BYTE_OFFSET;
        return ids;
    }

    /** Text of the ids (malformed UTF-8 becomes U+FFFD). */
    public static String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length);
        for (int id : ids) {
            if (id < BYTE_OFFSET) continue;
            if (id < FIRST_WORD_ID) out.write(id - BYTE_OFFSET);
            else out.write('a' + (id - FIRST_WORD_ID) % 26);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
