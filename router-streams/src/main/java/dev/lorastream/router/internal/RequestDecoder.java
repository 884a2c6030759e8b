package dev.lorastream.router.internal;

import dev.lorastream.schemas.Failures;

import dev.lorastream.router.Violation;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryException;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.WireFormat;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaIncompatibilityType;
import org.apache.kafka.common.errors.SerializationException;

/**
 * Decodes request bytes with the project's {@link AvroDeserializer}; when that fails, finds out
 * why (not the wire format, an id the registry does not know, another event's schema, an
 * InferenceRequest schema the router cannot read, a corrupt body) and says so as a
 * {@link Violation}. A registry that cannot be reached is not the record's fault: that failure is
 * rethrown (see {@link Failures}) so the record is tried again rather than dead-lettered.
 */
public final class RequestDecoder {
    private static final Schema READER = InferenceRequest.getClassSchema();

    private final SchemaRegistryClient registry;
    private final AvroDeserializer<InferenceRequest> deserializer;

    public RequestDecoder(SchemaRegistryClient registry) {
        this.registry = registry;
        this.deserializer = new AvroDeserializer<>(registry, InferenceRequest.class);
    }

    /** The outcome of decoding one value. */
    public sealed interface Decoding permits Decoded, Refused {}

    public record Decoded(InferenceRequest request) implements Decoding {}

    public record Refused(Violation violation) implements Decoding {}

    public Decoding decode(String topic, byte[] value) {
        if (value == null) {
            return refused(ErrorCode.MALFORMED_RECORD, null, "value is null (a tombstone); a request needs an InferenceRequest value");
        }
        try {
            return new Decoded(deserializer.deserialize(topic, value));
        } catch (SerializationException e) {
            if (Failures.isRetriable(e)) throw e;
            return new Refused(explain(topic, value, e));
        }
    }

    private Violation explain(String topic, byte[] value, SerializationException failure) {
        int id;
        try {
            id = WireFormat.schemaId(topic, value);
        } catch (SerializationException e) {
            return new Violation(null, ErrorCode.MALFORMED_RECORD, e.getMessage());
        }
        Schema writer;
        try {
            writer = registry.schemaById(id);
        } catch (SchemaRegistryException e) {
            if (e.isRetriable()) throw e;
            return new Violation(null, ErrorCode.MALFORMED_RECORD, "schema id " + id + " is not known to the registry ("
                    + e.getMessage() + "); the value was not written by a producer of this pipeline");
        }
        if (writer.getType() != Schema.Type.RECORD || !writer.getFullName().equals(READER.getFullName())) {
            return new Violation(null, ErrorCode.WRONG_SCHEMA, "value was written with schema " + writer.getFullName()
                    + " (id " + id + "), not " + READER.getFullName() + ": wrong event type for topic " + topic);
        }
        SchemaCompatibility.SchemaPairCompatibility pair = SchemaCompatibility.checkReaderWriterCompatibility(READER, writer);
        if (pair.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            Incompatibility first = pair.getResult().getIncompatibilities().getFirst();
            String field = first.getType() == SchemaIncompatibilityType.READER_FIELD_MISSING_DEFAULT_VALUE ? first.getMessage() : null;
            String what = field != null
                    ? "writer schema (id " + id + ") has no field " + field + ", which the router's InferenceRequest requires"
                    : "writer schema (id " + id + ") cannot be read as the router's InferenceRequest: " + first.getType()
                            + " at " + first.getLocation() + " (" + first.getMessage() + ")";
            return new Violation(field, ErrorCode.WRONG_SCHEMA, what);
        }
        return new Violation(null, ErrorCode.MALFORMED_RECORD, failure.getMessage());
    }

    private static Refused refused(ErrorCode code, String field, String reason) {
        return new Refused(new Violation(field, code, reason));
    }
}
