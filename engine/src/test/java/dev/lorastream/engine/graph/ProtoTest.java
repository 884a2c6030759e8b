package dev.lorastream.engine.graph;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

class ProtoTest {
    @Test
    void varintsUseSevenBitGroupsLeastSignificantFirst() throws Exception {
        assertThat(varint(0)).containsExactly(0x00);
        assertThat(varint(1)).containsExactly(0x01);
        assertThat(varint(300)).containsExactly(0xAC, 0x02);
        assertThat(varint(-1)).hasSize(10).startsWith(0xFF).endsWith(0x01);
    }

    @Test
    void fieldsCarryTagsWireTypesAndLengths() {
        Proto inner = new Proto().varint(1, 150);
        Proto msg = new Proto().string(2, "ab").message(3, inner).float32(4, 1.0f);

        byte[] bytes = msg.toByteArray();

        assertThat(toInts(bytes)).containsExactly(
                0x12, 0x02, 'a', 'b',            // field 2, length-delimited
                0x1A, 0x03, 0x08, 0x96, 0x01,    // field 3 (message) holding field 1 = 150
                0x25, 0x00, 0x00, 0x80, 0x3F);   // field 4, fixed32 1.0f
        assertThat(msg.size()).isEqualTo(bytes.length);
    }

    @Test
    void rawDataIsStreamedWithItsDeclaredLength() {
        Proto msg = new Proto().raw(9, RawData.floats(2f, -1f));

        assertThat(toInts(msg.toByteArray())).containsExactly(0x4A, 0x08, 0, 0, 0, 0x40, 0, 0, 0x80, 0xBF);
    }

    private static int[] varint(long v) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Proto.writeVarint(out, v);
        assertThat(Proto.varintSize(v)).isEqualTo(out.size());
        return toInts(out.toByteArray());
    }

    private static int[] toInts(byte[] b) {
        int[] r = new int[b.length];
        for (int i = 0; i < b.length; i++) r[i] = b[i] & 0xff;
        return r;
    }
}
