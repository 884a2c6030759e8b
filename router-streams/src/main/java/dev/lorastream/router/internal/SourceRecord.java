package dev.lorastream.router.internal;

/** Where a record came from and its bytes as read, for dead letters and logs. */
public record SourceRecord(String topic, int partition, long offset, byte[] key, byte[] value) {

    /** The original key as text, or null; used as the dead letter's key when the request id is unknown. */
    public String keyText() {
        return key == null ? null : new String(key, java.nio.charset.StandardCharsets.UTF_8);
    }

    public String position() { return topic + "-" + partition + "@" + offset; }
}
