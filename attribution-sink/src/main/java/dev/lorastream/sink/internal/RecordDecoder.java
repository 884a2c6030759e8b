package dev.lorastream.sink.internal;

import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.WireFormat;
import org.apache.avro.Schema;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Turns the bytes of one attribution record into an event or a rejection. Permanent problems
 * (not wire format, unknown schema id, another event type, a corrupt body, an invalid event) are
 * rejections; a registry that cannot be reached is not the record's fault and is thrown, so that
 * the batch is retried rather than dead-lettered.
 */
public final class RecordDecoder {
    private final SchemaRegistryClient registry;
    private final AvroDeserializer<AttributionEvent> deserializer;

    public RecordDecoder(SchemaRegistryClient registry) {
        this.registry = registry;
        this.deserializer = new AvroDeserializer<>(registry, AttributionEvent.class);
    }

    /** @throws SerializationException when the registry is unreachable or failing (retriable) */
    public Decoded decode(String topic, byte[] value) {
        if (value == null) {
            return new Decoded.Rejected(ErrorCode.MALFORMED_RECORD.name(), null, "record on " + topic + " has no value (null)", null);
        }
        AttributionEvent event;
        try {
            event = deserializer.deserialize(topic, value);
        } catch (SerializationException e) {
            if (dev.lorastream.schemas.Failures.isRetriable(e)) throw e;
            ErrorCode code = isOtherEventType(value) ? ErrorCode.WRONG_SCHEMA : ErrorCode.MALFORMED_RECORD;
            return new Decoded.Rejected(code.name(), null, e.getMessage(), null);
        }
        return EventValidator.check(event).<Decoded>map(r -> r).orElseGet(() -> new Decoded.Accepted(event));
    }

    private boolean isOtherEventType(byte[] value) {
        try {
            Schema writer = registry.schemaById(WireFormat.schemaId("", value));
            return !writer.getFullName().equals(AttributionEvent.getClassSchema().getFullName());
        } catch (RuntimeException e) {
            return false;
        }
    }
}
