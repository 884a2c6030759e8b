package dev.lorastream.schemas.serde;

import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.SampleEvents;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.registry.InMemorySchemaRegistryClient;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AvroSerdeTest {
    private static final String TOPIC = "inference.requests";

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final AvroSerializer<SpecificRecord> serializer = new AvroSerializer<>(registry, false);
    private final AvroDeserializer<InferenceRequest> requests = new AvroDeserializer<>(registry, InferenceRequest.class);

    static List<SpecificRecord> events() { return SampleEvents.all(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("events")
    void eachEventTypeRoundTrips(SpecificRecord event) {
        // Given a deserializer for the event's class
        @SuppressWarnings("unchecked")
        AvroDeserializer<SpecificRecord> deserializer = new AvroDeserializer<>(registry, (Class<SpecificRecord>) event.getClass());
        String topic = "topic-" + event.getSchema().getName();

        // When the event is written and read back
        byte[] bytes = serializer.serialize(topic, event);
        SpecificRecord back = deserializer.deserialize(topic, bytes);

        // Then it is equal, and the bytes carry the id registered under <topic>-value
        assertThat(back).isEqualTo(event);
        assertThat(bytes[0]).isEqualTo(WireFormat.MAGIC);
        int id = WireFormat.schemaId(topic, bytes);
        assertThat(registry.register(Subjects.of(topic, false), event.getSchema())).isEqualTo(id);
        assertThat(registry.schemaById(id)).isEqualTo(event.getSchema());
    }

    @Test
    void nullStaysNull() {
        assertThat(serializer.serialize(TOPIC, null)).isNull();
        assertThat(requests.deserialize(TOPIC, null)).isNull();
    }

    @Test
    void aValueWrittenWithAnEarlierSchemaIsReadWithTheDefaultsOfNewFields() throws IOException {
        // Given an earlier InferenceRequest schema without the attributes field, registered under the subject
        Schema earlier = withoutField(InferenceRequest.getClassSchema(), "attributes");
        int id = registry.register(Subjects.of(TOPIC, false), earlier);
        Schema paramsSchema = earlier.getField("params").schema();
        GenericRecord old = new GenericRecordBuilder(earlier)
                .set("request_id", "req-1")
                .set("tenant", "clinic-a")
                .set("params", new GenericRecordBuilder(paramsSchema).set("max_new_tokens", 8).build())
                .set("submitted_at_ms", SampleEvents.AT.toEpochMilli())
                .build();

        // When it is read with today's class
        InferenceRequest read = requests.deserialize(TOPIC, wire(id, earlier, old));

        // Then the known fields come through and attributes takes its default
        assertThat(read.getRequestId()).isEqualTo("req-1");
        assertThat(read.getParams().getMaxNewTokens()).isEqualTo(8);
        assertThat(read.getSubmittedAtMs()).isEqualTo(SampleEvents.AT);
        assertThat(read.getAttributes()).isEmpty();
    }

    @Test
    void bytesWithAnotherMagicByteAreRefused() {
        byte[] bytes = serializer.serialize(TOPIC, SampleEvents.request());
        bytes[0] = 1;

        assertThatThrownBy(() -> requests.deserialize(TOPIC, bytes))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("magic byte 0 (found 0x01)")
                .hasMessageContaining(TOPIC);
    }

    @Test
    void bytesTooShortForTheHeaderAreRefused() {
        assertThatThrownBy(() -> requests.deserialize(TOPIC, new byte[]{0, 0, 1}))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("3 bytes, too short for the Confluent wire format");
    }

    @Test
    void anUnknownSchemaIdIsRefused() {
        byte[] bytes = serializer.serialize(TOPIC, SampleEvents.request());
        ByteBuffer.wrap(bytes).putInt(1, 4711);

        assertThatThrownBy(() -> requests.deserialize(TOPIC, bytes))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("schema id 4711 could not be fetched")
                .hasMessageContaining("not found");
    }

    @Test
    void aWriterSchemaOfAnotherRecordTypeIsRefused() {
        // Given a WorkerStatus written to the topic
        byte[] bytes = serializer.serialize(TOPIC, SampleEvents.workerStatus());

        // Then reading it as an InferenceRequest says which type it is
        assertThatThrownBy(() -> requests.deserialize(TOPIC, bytes))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("is " + WorkerStatus.getClassSchema().getFullName() + ", not "
                        + InferenceRequest.getClassSchema().getFullName())
                .hasMessageContaining("wrong event type");
    }

    @Test
    void aTruncatedBodyIsRefused() {
        byte[] bytes = serializer.serialize(TOPIC, SampleEvents.request());
        byte[] truncated = Arrays.copyOf(bytes, bytes.length - 4);

        assertThatThrownBy(() -> requests.deserialize(TOPIC, truncated))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("not a valid InferenceRequest body for schema id");
    }

    @Test
    void aHeaderWithoutBodyIsRefused() {
        byte[] bytes = serializer.serialize(TOPIC, SampleEvents.request());

        assertThatThrownBy(() -> requests.deserialize(TOPIC, Arrays.copyOf(bytes, WireFormat.HEADER_BYTES)))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("not a valid InferenceRequest body");
    }

    @Test
    void trailingBytesAfterTheBodyAreRefused() {
        byte[] bytes = serializer.serialize(TOPIC, SampleEvents.request());
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 3);

        assertThatThrownBy(() -> requests.deserialize(TOPIC, longer))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("trailing bytes after its InferenceRequest body");
    }

    @Test
    void aRecordWhoseSchemaTheSubjectRefusesIsNotSerialized() {
        // Given the subject holds an earlier schema without request_id (today's schema requires it, no default)
        registry.register(Subjects.of(TOPIC, false), withoutField(InferenceRequest.getClassSchema(), "request_id"));

        // Then writing today's record fails, saying why
        assertThatThrownBy(() -> serializer.serialize(TOPIC, SampleEvents.request()))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("cannot register dev.lorastream.schemas.InferenceRequest for topic " + TOPIC)
                .hasMessageContaining("incompatible");
    }

    private static Schema withoutField(Schema schema, String name) {
        List<Schema.Field> fields = schema.getFields().stream().filter(f -> !f.name().equals(name))
                .map(f -> new Schema.Field(f, f.schema())).collect(Collectors.toList());
        return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
    }

    private static byte[] wire(int id, Schema schema, GenericRecord record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(WireFormat.MAGIC);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema, GenericData.get()).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }
}
