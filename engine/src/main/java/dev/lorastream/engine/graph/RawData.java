package dev.lorastream.engine.graph;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Supplier;

/** Bytes of known length produced when written, so that large weights are read only while the model is being written. */
public interface RawData {
    long size();

    void writeTo(OutputStream out) throws IOException;

    static RawData of(byte[] bytes) {
        return new RawData() {
            public long size() { return bytes.length; }

            public void writeTo(OutputStream out) throws IOException { out.write(bytes); }
        };
    }

    /** Little-endian float32 values, produced on demand by the supplier. */
    static RawData floats(long count, Supplier<float[]> values) {
        return encoded(count, 4, values, ByteBuffer::putFloat);
    }

    /** Little-endian IEEE half values of the supplier's floats (rounded to nearest even). */
    static RawData halfs(long count, Supplier<float[]> values) {
        return encoded(count, 2, values, (buf, f) -> buf.putShort(Float.floatToFloat16(f)));
    }

    /** The supplier's floats, each written as {@code bytesEach} little-endian bytes by {@code put}. */
    private static RawData encoded(long count, int bytesEach, Supplier<float[]> values, FloatPut put) {
        return new RawData() {
            public long size() { return count * bytesEach; }

            public void writeTo(OutputStream out) throws IOException {
                float[] v = values.get();
                if (v.length != count) throw new IllegalStateException("expected " + count + " floats, got " + v.length);
                ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : v) {
                    if (buf.remaining() < bytesEach) {
                        out.write(buf.array(), 0, buf.position());
                        buf.clear();
                    }
                    put.put(buf, f);
                }
                out.write(buf.array(), 0, buf.position());
            }
        };
    }

    /** Writes one float into a buffer in some encoding. */
    @FunctionalInterface
    interface FloatPut {
        void put(ByteBuffer buf, float value);
    }

    static RawData longs(long... values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) buf.putLong(v);
        return of(buf.array());
    }

    static RawData floats(float... values) {
        float[] copy = values.clone();
        return floats(copy.length, () -> copy);
    }
}
