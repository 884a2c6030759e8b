package dev.lorastream.worker.internal;

import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryException;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.WireFormat;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Turns the bytes of a routed record into an {@link InferenceRequest}, or says why it cannot:
 * {@code MALFORMED_RECORD} (not the wire format, unknown schema id, unreadable body, no value) or
 * {@code WRONG_SCHEMA} (a record of another type). A registry that cannot be reached is not the
 * record's fault: that fails with a {@link RegistryUnavailableException} so the batch is retried.
 */
public final class RequestDecoder {
    private final SchemaRegistryClient registry;
    private final AvroDeserializer<InferenceRequest> deserializer;

    public RequestDecoder(SchemaRegistryClient registry) {
        this.registry = registry;
        this.deserializer = new AvroDeserializer<>(registry, InferenceRequest.class);
    }

    /** What a record decodes to. */
    public sealed interface Result permits Decoded, Refused {}

    public record Decoded(InferenceRequest request) implements Result {}

    public record Refused(String code, String reason) implements Result {}

    /** A registry failure that may pass: the batch is retried rather than its records dead-lettered. */
    public static final class RegistryUnavailableException extends RetriableException {
        public RegistryUnavailableException(String message, Throwable cause) { super(message, cause); }
    }

    public Result decode(ConsumerRecord<byte[], byte[]> record) {
        if (record.value() == null) {
            return new Refused(ErrorCode.MALFORMED_RECORD.name(), "record has no value (tombstone)");
        }
        try {
            return new Decoded(deserializer.deserialize(record.topic(), record.value()));
        } catch (SerializationException e) {
            return classify(record, e);
        }
    }

    private Result classify(ConsumerRecord<byte[], byte[]> record, SerializationException failure) {
        SchemaRegistryException registryFailure = registryCause(failure);
        if (registryFailure != null) {
            throwIfRetriable(record, registryFailure, failure);
            return new Refused(ErrorCode.MALFORMED_RECORD.name(), failure.getMessage());
        }
        Schema writer;
        try {
            writer = registry.schemaById(WireFormat.schemaId(record.topic(), record.value()));
        } catch (SerializationException e) {
            return new Refused(ErrorCode.MALFORMED_RECORD.name(), failure.getMessage());
        } catch (SchemaRegistryException e) {
            throwIfRetriable(record, e, failure);
            return new Refused(ErrorCode.MALFORMED_RECORD.name(), failure.getMessage());
        }
        boolean otherType = !writer.getFullName().equals(InferenceRequest.getClassSchema().getFullName());
        return new Refused(otherType ? ErrorCode.WRONG_SCHEMA.name() : ErrorCode.MALFORMED_RECORD.name(), failure.getMessage());
    }

    private static void throwIfRetriable(ConsumerRecord<byte[], byte[]> record, SchemaRegistryException e, Exception failure) {
        if (e.isRetriable()) {
            throw new RegistryUnavailableException("cannot decode record " + record.topic() + "-" + record.partition()
                    + "@" + record.offset() + ": " + e.getMessage(), failure);
        }
    }

    private static SchemaRegistryException registryCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SchemaRegistryException s) return s;
        }
        return null;
    }
}
