package dev.lorastream.sink.internal;

import dev.lorastream.schemas.DeadLetter;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.time.Instant;

/** The DeadLetter for a record the sink refused (through {@code schemas.DeadLetters}, the one builder). */
public final class DeadLetters {
    public static final String COMPONENT = "sink";

    private DeadLetters() {}

    public static DeadLetter of(ConsumerRecord<byte[], byte[]> record, Decoded.Rejected rejected, Instant now) {
        return dev.lorastream.schemas.DeadLetters.of(record.topic(), record.partition(), record.offset(), record.key(), record.value(),
                rejected.requestId(), rejected.errorCode(), rejected.field(), rejected.reason(), COMPONENT, now);
    }
}
