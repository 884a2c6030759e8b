package dev.lorastream.schemas.serde;

import dev.lorastream.schemas.SchemaTrust;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryException;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads Confluent wire-format Avro into a specific record class, resolving the writer's schema
 * (fetched by id) against the class's schema. Bytes that are not in the wire format, a schema id
 * the registry does not know, a writer schema of another record type, and a truncated body all
 * fail with a {@link SerializationException} that says which.
 */
public final class AvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {
    private final SchemaRegistryClient registry;
    private final Class<T> type;
    private final Schema readerSchema;
    private final SpecificData model;
    private final Map<Integer, SpecificDatumReader<T>> readers = new ConcurrentHashMap<>();

    public AvroDeserializer(SchemaRegistryClient registry, Class<T> type) {
        this.registry = registry;
        this.type = type;
        this.model = SpecificData.getForClass(type);
        this.readerSchema = model.getSchema(type);
        SchemaTrust.ensure();
    }

    @Override
    public T deserialize(String topic, byte[] bytes) {
        if (bytes == null) return null;
        int id = WireFormat.schemaId(topic, bytes);
        SpecificDatumReader<T> reader = readers.computeIfAbsent(id, this::readerFor);
        try {
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, WireFormat.HEADER_BYTES,
                    bytes.length - WireFormat.HEADER_BYTES, null);
            T value = reader.read(null, decoder);
            if (!decoder.isEnd()) {
                throw new SerializationException("value on topic " + topic + " has trailing bytes after its "
                        + type.getSimpleName() + " body (schema id " + id + ")");
            }
            return value;
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new SerializationException("value on topic " + topic + " is not a valid " + type.getSimpleName()
                    + " body for schema id " + id + ": " + e, e);
        }
    }

    private SpecificDatumReader<T> readerFor(int id) {
        Schema writer;
        try {
            writer = registry.schemaById(id);
        } catch (SchemaRegistryException e) {
            throw new SerializationException("schema id " + id + " could not be fetched from " + registry.describe() + ": " + e.getMessage(), e);
        }
        if (writer.getType() != Schema.Type.RECORD || !writer.getFullName().equals(readerSchema.getFullName())) {
            throw new SerializationException("schema id " + id + " is " + writer.getFullName() + ", not "
                    + readerSchema.getFullName() + ": wrong event type for this topic");
        }
        return new SpecificDatumReader<>(writer, readerSchema, model);
    }
}
