package dev.lorastream.engine.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SafetensorsTest {
    @TempDir
    Path tmp;

    private static final FloatTensor MATRIX = new FloatTensor(new int[] {2, 3}, new float[] {1f, -2.5f, 3.25f, 0f, 1e-3f, -7f});
    private static final FloatTensor VECTOR = new FloatTensor(new int[] {4}, new float[] {0.1f, 0.2f, 0.3f, 0.4f});

    @Test
    void f32RoundTripKeepsNamesShapesValuesAndMetadata() throws Exception {
        Path file = tmp.resolve("w.safetensors");
        Files.write(file, SafetensorsWriter.toBytes(Map.of("b.vec", VECTOR, "a.mat", MATRIX), Map.of("format", "pt")));

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.tensors().keySet()).containsExactly("a.mat", "b.vec");
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(f.info("a.mat").shape()).containsExactly(2, 3);
            assertThat(f.info("a.mat").dtype()).isEqualTo("F32");
            assertThat(f.read("a.mat").data()).containsExactly(MATRIX.data());
            assertThat(f.read("b.vec").data()).containsExactly(VECTOR.data());
        }
    }

    @Test
    void headerIsPaddedToEightBytesAndOffsetsAreRelativeToTheDataStart() {
        byte[] bytes = SafetensorsWriter.toBytes(Map.of("x", VECTOR), Map.of());
        long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8);

        assertThat(headerLen % 8).isZero();
        assertThat(header).contains("\"data_offsets\":[0,16]");
        assertThat(bytes.length).isEqualTo(8 + headerLen + 16);
    }

    @Test
    void f16AndBf16AreConvertedToFloat32() throws Exception {
        FloatTensor t = new FloatTensor(new int[] {4}, new float[] {1.5f, -0.333f, 1000f, 3.1415926f});
        Path f16 = tmp.resolve("h.safetensors"), bf16 = tmp.resolve("b.safetensors");
        Files.write(f16, SafetensorsWriter.toBytes(Map.of("t", t), Map.of(), DType.F16));
        Files.write(bf16, SafetensorsWriter.toBytes(Map.of("t", t), Map.of(), DType.BF16));

        try (SafetensorsFile h = SafetensorsFile.open(f16); SafetensorsFile b = SafetensorsFile.open(bf16)) {
            assertThat(h.info("t").dtype()).isEqualTo("F16");
            float[] hv = h.read("t").data(), bv = b.read("t").data();
            for (int i = 0; i < 4; i++) {
                assertThat(hv[i]).isCloseTo(t.data()[i], within(Math.abs(t.data()[i]) * 1e-3f));
                assertThat(bv[i]).isCloseTo(t.data()[i], within(Math.abs(t.data()[i]) * 8e-3f));
            }
            assertThat(hv[0]).isEqualTo(1.5f);
            assertThat(bv[0]).isEqualTo(1.5f);
        }
    }

    @Test
    void truncatedFileIsRefusedWithItsPath() throws Exception {
        byte[] bytes = SafetensorsWriter.toBytes(Map.of("x", MATRIX), Map.of());
        Path file = tmp.resolve("cut.safetensors");
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 4));

        assertThatThrownBy(() -> SafetensorsFile.open(file)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("'x'").hasMessageContaining("outside the data section");
    }

    @Test
    void shapeThatDisagreesWithTheByteCountIsRefused() throws Exception {
        String header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
        ByteBuffer buf = ByteBuffer.allocate(8 + header.length() + 8).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length()).put(header.getBytes(StandardCharsets.US_ASCII)).putFloat(1f).putFloat(2f);
        Path file = tmp.resolve("bad.safetensors");
        Files.write(file, buf.array());

        assertThatThrownBy(() -> SafetensorsFile.open(file)).hasMessageContaining("needs 12 bytes");
    }

    @Test
    void integerTensorsAreNotReadAsFloats() throws Exception {
        String header = "{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}";
        ByteBuffer buf = ByteBuffer.allocate(8 + header.length() + 8).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length()).put(header.getBytes(StandardCharsets.US_ASCII)).putLong(5);
        Path file = tmp.resolve("ids.safetensors");
        Files.write(file, buf.array());

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThatThrownBy(() -> f.read("ids")).hasMessageContaining("I64 is not a floating type");
        }
    }

    @Test
    void aTensorSmallerThanOneChunkIsReadThroughABufferOfItsOwnSize() {
        // an adapter has dozens of small tensors: a 4 MiB buffer per read made each load allocate and zero ~100 MiB
        assertThat(SafetensorsFile.readBufferBytes(8192, DType.F32)).isEqualTo(8192 * 4);
        assertThat(SafetensorsFile.readBufferBytes(8192, DType.BF16)).isEqualTo(8192 * 2);
        assertThat(SafetensorsFile.readBufferBytes(0, DType.F32)).isZero();
        assertThat(SafetensorsFile.readBufferBytes(10L * SafetensorsFile.CHUNK, DType.F32)).isEqualTo(SafetensorsFile.CHUNK);
    }

    @Test
    void aTensorLargerThanOneChunkIsReadWholeAcrossChunkBoundaries() throws Exception {
        int n = SafetensorsFile.CHUNK / 4 * 2 + 3;
        float[] values = new float[n];
        for (int i = 0; i < n; i++) values[i] = i * 0.5f - 7f;
        Path file = tmp.resolve("big.safetensors");
        Files.write(file, SafetensorsWriter.toBytes(Map.of("small", VECTOR, "big", new FloatTensor(new int[] {n}, values)), Map.of()));

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            float[] read = f.read("big").data();
            assertThat(read.length).isEqualTo(n);
            assertThat(Arrays.equals(read, values)).as("every value, across both chunk boundaries").isTrue(); // containsExactly diffs in O(n²)
            assertThat(f.read("small").data()).containsExactly(VECTOR.data());
        }
    }
}
