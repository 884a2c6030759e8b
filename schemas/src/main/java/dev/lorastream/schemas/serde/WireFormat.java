package dev.lorastream.schemas.serde;

import org.apache.kafka.common.errors.SerializationException;

import java.nio.ByteBuffer;

/** Confluent wire format: magic byte 0, 4-byte big-endian schema id, then the Avro binary body. */
public final class WireFormat {
    public static final byte MAGIC = 0;
    public static final int HEADER_BYTES = 5;

    private WireFormat() {}

    /** The schema id in the header, or a {@link SerializationException} saying why the bytes are not in this format. */
    public static int schemaId(String topic, byte[] bytes) {
        if (bytes.length < HEADER_BYTES) {
            throw new SerializationException("value on topic " + topic + " is " + bytes.length
                    + " bytes, too short for the Confluent wire format (magic byte + 4-byte schema id + Avro body)");
        }
        if (bytes[0] != MAGIC) {
            throw new SerializationException(String.format(
                    "value on topic %s does not start with magic byte 0 (found 0x%02x): not Confluent wire-format Avro", topic, bytes[0]));
        }
        return ByteBuffer.wrap(bytes, 1, 4).getInt();
    }

    static ByteBuffer header(int schemaId, int bodyBytes) {
        ByteBuffer buf = ByteBuffer.allocate(HEADER_BYTES + bodyBytes);
        buf.put(MAGIC).putInt(schemaId);
        return buf;
    }
}
