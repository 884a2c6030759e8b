package dev.lorastream.schemas.serde;

import dev.lorastream.schemas.registry.SchemaRegistryClient;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** A Kafka {@link Serde} for one specific record class in the Confluent wire format. */
public final class AvroSerde {
    private AvroSerde() {}

    public static <T extends SpecificRecord> Serde<T> forValue(SchemaRegistryClient registry, Class<T> type) {
        return Serdes.serdeFrom(new AvroSerializer<>(registry, false), new AvroDeserializer<>(registry, type));
    }
}
