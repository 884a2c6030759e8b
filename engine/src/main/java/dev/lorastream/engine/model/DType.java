package dev.lorastream.engine.model;

import java.nio.ByteBuffer;

/** Element types of safetensors files that can be read as float32. */
public enum DType {
    F32(4), F16(2), BF16(2), F64(8);

    private final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    /** Bytes per element. */
    public int bytes() { return bytes; }

    /** The safetensors dtype string, or null when it is not a floating type this reader converts. */
    public static DType fromSafetensors(String name) {
        return switch (name) {
            case "F32" -> F32;
            case "F16" -> F16;
            case "BF16" -> BF16;
            case "F64" -> F64;
            default -> null;
        };
    }

    /** Reads one element at the buffer's position (little-endian buffer) as float32. */
    float read(ByteBuffer buf) {
        return switch (this) {
            case F32 -> buf.getFloat();
            case F16 -> Float.float16ToFloat(buf.getShort());
            case BF16 -> Float.intBitsToFloat((buf.getShort() & 0xffff) << 16);
            case F64 -> (float) buf.getDouble();
        };
    }
}
