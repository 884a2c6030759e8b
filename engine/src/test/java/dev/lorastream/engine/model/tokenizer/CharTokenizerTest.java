package dev.lorastream.engine.model.tokenizer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CharTokenizerTest {
    private final CharTokenizer tok = new CharTokenizer();

    @Test
    void encodePrependsBosAndMapsPrintableAsciiAndNewline() {
        assertThat(tok.encode(" A~\n")).containsExactly(CharTokenizer.BOS, 3, 3 + ('A' - 32), 97, 98);
        assertThat(tok.vocabSize()).isEqualTo(99);
    }

    @Test
    void decodeInvertsEncodeAndSkipsSpecialTokens() {
        String text = "Rash on arm?\nSee a doctor.";
        int[] ids = tok.encode(text);
        int[] withSpecials = new int[ids.length + 2];
        System.arraycopy(ids, 0, withSpecials, 0, ids.length);
        withSpecials[ids.length] = CharTokenizer.EOS;
        withSpecials[ids.length + 1] = CharTokenizer.PAD;

        assertThat(tok.decode(withSpecials)).isEqualTo(text);
    }

    @Test
    void unknownCharactersBecomeQuestionMarks() {
        assertThat(tok.decode(tok.encode("café\t"))).isEqualTo("caf??");
    }
}
