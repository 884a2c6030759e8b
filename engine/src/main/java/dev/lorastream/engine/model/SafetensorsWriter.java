package dev.lorastream.engine.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes safetensors bytes: tensors sorted by name (so equal input gives equal bytes), header
 * padded with spaces to a multiple of 8 bytes. F32, or F16/BF16 (rounded from the floats).
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {}

    public static byte[] toBytes(Map<String, FloatTensor> tensors, Map<String, String> metadata) {
        return toBytes(tensors, metadata, DType.F32);
    }

    public static byte[] toBytes(Map<String, FloatTensor> tensors, Map<String, String> metadata, DType dtype) {
        if (dtype == DType.F64) throw new IllegalArgumentException("writing F64 is not supported");
        TreeMap<String, FloatTensor> sorted = new TreeMap<>(tensors);
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, FloatTensor> e : sorted.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", dtype.name());
            ArrayNode shape = t.putArray("shape");
            for (int d : e.getValue().shape()) shape.add(d);
            long len = (long) e.getValue().data().length * dtype.bytes();
            t.putArray("data_offsets").add(offset).add(offset + len);
            offset += len;
        }
        byte[] headerBytes;
        try {
            headerBytes = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        int padded = (headerBytes.length + 7) / 8 * 8;
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16, 8 + padded + offset));
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        out.writeBytes(len.array());
        out.writeBytes(headerBytes);
        for (int i = headerBytes.length; i < padded; i++) out.write(' ');
        for (FloatTensor t : sorted.values()) {
            ByteBuffer buf = ByteBuffer.allocate(t.data().length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : t.data()) {
                switch (dtype) {
                    case F32 -> buf.putFloat(f);
                    case F16 -> buf.putShort(Float.floatToFloat16(f));
                    case BF16 -> buf.putShort(toBf16(f));
                    default -> throw new IllegalStateException();
                }
            }
            out.writeBytes(buf.array());
        }
        return out.toByteArray();
    }

    /** float32 to bfloat16 with round-to-nearest-even. */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) 0x7fc0;
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}
