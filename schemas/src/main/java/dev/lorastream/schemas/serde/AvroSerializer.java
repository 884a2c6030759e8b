package dev.lorastream.schemas.serde;

import dev.lorastream.schemas.SchemaTrust;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryException;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * Writes a specific record in the Confluent wire format, registering its schema under
 * {@code <topic>-value} (or {@code -key}) on first use; registration is cached by the client.
 */
public final class AvroSerializer<T extends SpecificRecord> implements Serializer<T> {
    private final SchemaRegistryClient registry;
    private final boolean isKey;

    public AvroSerializer(SchemaRegistryClient registry, boolean isKey) {
        this.registry = registry;
        this.isKey = isKey;
        SchemaTrust.ensure();
    }

    @Override
    public byte[] serialize(String topic, T record) {
        if (record == null) return null;
        int id;
        try {
            id = registry.register(Subjects.of(topic, isKey), record.getSchema());
        } catch (SchemaRegistryException e) {
            throw new SerializationException("cannot register " + record.getSchema().getFullName() + " for topic " + topic + ": " + e.getMessage(), e);
        }
        try {
            ByteArrayOutputStream body = new ByteArrayOutputStream(256);
            body.write(WireFormat.MAGIC);
            body.write(id >>> 24); body.write(id >>> 16); body.write(id >>> 8); body.write(id);
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(body, null);
            @SuppressWarnings("unchecked")
            SpecificDatumWriter<T> writer = new SpecificDatumWriter<>((Class<T>) record.getClass());
            writer.write(record, encoder);
            encoder.flush();
            return body.toByteArray();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot write " + record.getSchema().getFullName() + " for topic " + topic + ": " + e.getMessage(), e);
        }
    }
}
