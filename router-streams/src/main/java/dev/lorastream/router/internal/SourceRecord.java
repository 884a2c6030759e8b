package dev.lorastream.router.internal;

import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** Where a record came from and its bytes as read, for dead letters and logs. */
public record SourceRecord(String topic, int partition, long offset, byte[] key, byte[] value) {
    /** Headers of a record on {@link Topics#REQUESTS_BY_ID}: where the router first read the request, and its original key. */
    static final String ORIGIN_TOPIC = "lorastream.origin.topic", ORIGIN_PARTITION = "lorastream.origin.partition",
            ORIGIN_OFFSET = "lorastream.origin.offset", ORIGIN_KEY = "lorastream.origin.key";
    private static final List<String> ORIGIN_HEADERS = List.of(ORIGIN_TOPIC, ORIGIN_PARTITION, ORIGIN_OFFSET, ORIGIN_KEY);

    /**
     * The record as read; for one read from {@link Topics#REQUESTS_BY_ID}, the request as first read (topic, partition,
     * offset and key from its origin headers), so that dead letters name where the producer wrote it.
     */
    public static SourceRecord of(String topic, int partition, long offset, byte[] key, byte[] value, Headers headers) {
        if (!Topics.REQUESTS_BY_ID.equals(topic) || headers == null || text(headers, ORIGIN_TOPIC) == null) {
            return new SourceRecord(topic, partition, offset, key, value);
        }
        try {
            Header originKey = headers.lastHeader(ORIGIN_KEY);
            return new SourceRecord(text(headers, ORIGIN_TOPIC), Integer.parseInt(text(headers, ORIGIN_PARTITION)),
                    Long.parseLong(text(headers, ORIGIN_OFFSET)), originKey == null ? null : originKey.value(), value);
        } catch (RuntimeException e) { // not written by this router: the record as read
            return new SourceRecord(topic, partition, offset, key, value);
        }
    }

    /** Headers for the by-id copy of this record: the producer's own, and this record's origin. */
    Headers withOrigin(Headers producers) {
        Headers headers = new RecordHeaders(producers.toArray())
                .add(ORIGIN_TOPIC, topic.getBytes(StandardCharsets.UTF_8))
                .add(ORIGIN_PARTITION, Integer.toString(partition).getBytes(StandardCharsets.UTF_8))
                .add(ORIGIN_OFFSET, Long.toString(offset).getBytes(StandardCharsets.UTF_8));
        if (key != null) headers.add(ORIGIN_KEY, key);
        return headers;
    }

    /** The producer's own headers of a record: without the origin headers this router adds. */
    static Headers producerHeaders(Headers headers) {
        if (headers == null || headers.lastHeader(ORIGIN_TOPIC) == null) return headers;
        Headers copy = new RecordHeaders(headers.toArray());
        ORIGIN_HEADERS.forEach(copy::remove);
        return copy;
    }

    private static String text(Headers headers, String name) {
        Header h = headers.lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** The original key as text, or null; used as the dead letter's key when the request id is unknown. */
    public String keyText() {
        return key == null ? null : new String(key, java.nio.charset.StandardCharsets.UTF_8);
    }

    public String position() { return topic + "-" + partition + "@" + offset; }
}
