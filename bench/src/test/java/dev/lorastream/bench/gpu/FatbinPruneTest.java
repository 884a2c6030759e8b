package dev.lorastream.bench.gpu;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class FatbinPruneTest {

    /** A fatbin of three cubins (sm 80, 90, 100) and one PTX: only the sm_90 cubin and the PTX keep their bytes. */
    @Test
    void zeroesCubinsOfOtherArchitecturesAndKeepsHeadersAndPtx() {
        int[][] entries = {{2, 80, 24}, {2, 90, 16}, {1, 80, 8}, {2, 100, 32}}; // kind, arch, payload
        int fat = 0;
        for (int[] e : entries) fat += 64 + e[2];
        ByteBuffer b = ByteBuffer.allocate(8 + 16 + fat + 8).order(ByteOrder.LITTLE_ENDIAN); // leading padding, header, entries, trailer
        int p = 8;
        b.putInt(p, FatbinPrune.FATBIN_MAGIC).putShort(p + 4, (short) 1).putShort(p + 6, (short) 16).putLong(p + 8, fat);
        int q = p + 16;
        for (int[] e : entries) {
            b.putShort(q, (short) e[0]).putInt(q + 4, 64).putLong(q + 8, e[2]).putInt(q + 28, e[1]);
            for (int i = 0; i < e[2]; i++) b.put(q + 64 + i, (byte) 0x5a);
            q += 64 + e[2];
        }

        FatbinPrune.Result r = FatbinPrune.prune(b, Set.of(90));

        assertThat(r.containers()).isEqualTo(1);
        assertThat(r.kept()).isEqualTo(Map.of(90, 16L));
        assertThat(r.zeroed()).isEqualTo(Map.of(80, 24L, 100, 32L));
        q = p + 16;
        for (int[] e : entries) {
            assertThat(b.getInt(q + 28)).as("header kept").isEqualTo(e[1]);
            byte expected = e[0] == 2 && e[1] != 90 ? 0 : (byte) 0x5a;
            for (int i = 0; i < e[2]; i++) assertThat(b.get(q + 64 + i)).isEqualTo(expected);
            q += 64 + e[2];
        }
    }
}
