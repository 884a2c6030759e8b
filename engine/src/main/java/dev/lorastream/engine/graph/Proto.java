package dev.lorastream.engine.graph;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A protobuf message under construction, written in the wire format: varints (wire type 0),
 * fixed32 floats (5) and length-delimited bytes, strings and nested messages (2). Sizes are
 * computed before writing, so nested messages and large {@link RawData} stream straight to the
 * output without being buffered.
 */
public final class Proto {
    private static final int VARINT = 0, LEN = 2, FIXED32 = 5;

    private sealed interface Field permits VarintField, Fixed32Field, BytesField, MessageField, RawField {}

    private record VarintField(int number, long value) implements Field {}

    private record Fixed32Field(int number, int bits) implements Field {}

    private record BytesField(int number, byte[] bytes) implements Field {}

    private record MessageField(int number, Proto message) implements Field {}

    private record RawField(int number, RawData data) implements Field {}

    private final List<Field> fields = new ArrayList<>();
    private long cachedSize = -1;

    public Proto varint(int number, long value) { return add(new VarintField(number, value)); }

    public Proto float32(int number, float value) { return add(new Fixed32Field(number, Float.floatToRawIntBits(value))); }

    public Proto string(int number, String value) { return add(new BytesField(number, value.getBytes(StandardCharsets.UTF_8))); }

    public Proto bytes(int number, byte[] value) { return add(new BytesField(number, value)); }

    public Proto message(int number, Proto value) { return add(new MessageField(number, value)); }

    public Proto raw(int number, RawData value) { return add(new RawField(number, value)); }

    private Proto add(Field f) {
        fields.add(f);
        cachedSize = -1;
        return this;
    }

    /** Serialized size in bytes. */
    public long size() {
        if (cachedSize >= 0) return cachedSize;
        long n = 0;
        for (Field f : fields) {
            n += switch (f) {
                case VarintField v -> tagSize(v.number()) + varintSize(v.value());
                case Fixed32Field x -> tagSize(x.number()) + 4;
                case BytesField b -> lenFieldSize(b.number(), b.bytes().length);
                case MessageField m -> lenFieldSize(m.number(), m.message().size());
                case RawField r -> lenFieldSize(r.number(), r.data().size());
            };
        }
        cachedSize = n;
        return n;
    }

    public void writeTo(OutputStream out) throws IOException {
        for (Field f : fields) {
            switch (f) {
                case VarintField v -> {
                    writeTag(out, v.number(), VARINT);
                    writeVarint(out, v.value());
                }
                case Fixed32Field x -> {
                    writeTag(out, x.number(), FIXED32);
                    int b = x.bits();
                    out.write(b);
                    out.write(b >>> 8);
                    out.write(b >>> 16);
                    out.write(b >>> 24);
                }
                case BytesField b -> {
                    writeTag(out, b.number(), LEN);
                    writeVarint(out, b.bytes().length);
                    out.write(b.bytes());
                }
                case MessageField m -> {
                    writeTag(out, m.number(), LEN);
                    writeVarint(out, m.message().size());
                    m.message().writeTo(out);
                }
                case RawField r -> {
                    writeTag(out, r.number(), LEN);
                    writeVarint(out, r.data().size());
                    CountingOutputStream counting = new CountingOutputStream(out);
                    r.data().writeTo(counting);
                    if (counting.count() != r.data().size()) {
                        throw new IllegalStateException("raw data wrote " + counting.count() + " bytes, declared " + r.data().size());
                    }
                }
            }
        }
    }

    public byte[] toByteArray() {
        var out = new java.io.ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16, size()));
        try {
            writeTo(out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    private static long lenFieldSize(int number, long length) { return tagSize(number) + varintSize(length) + length; }

    private static int tagSize(int number) { return varintSize((long) number << 3); }

    /** Bytes of a varint; negative values take 10 (two's complement int64). */
    static int varintSize(long v) {
        int n = 1;
        while ((v & ~0x7FL) != 0) {
            n++;
            v >>>= 7;
        }
        return n;
    }

    private static void writeTag(OutputStream out, int number, int wireType) throws IOException {
        writeVarint(out, ((long) number << 3) | wireType);
    }

    static void writeVarint(OutputStream out, long v) throws IOException {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static final class CountingOutputStream extends OutputStream {
        private final OutputStream out;
        private long count;

        CountingOutputStream(OutputStream out) { this.out = out; }

        long count() { return count; }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
