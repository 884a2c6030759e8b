package dev.lorastream.sink.internal;

import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.Contributor;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.registry.Compatibility;
import dev.lorastream.schemas.registry.InMemorySchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryException;
import dev.lorastream.schemas.serde.AvroSerializer;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RecordDecoderTest {
    private static final String TOPIC = "attribution.events";
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final RecordDecoder decoder = new RecordDecoder(registry);

    private static AttributionEvent.Builder event() {
        return AttributionEvent.newBuilder().setEventId("e1").setRequestId("r1").setTenant("t").setAdapterId("dermatology")
                .setBaseModel("m").setPromptTokens(3).setCompletionTokens(4).setComputeMs(1.5).setWorkerId("w")
                .setServedAtMs(Instant.parse("2025-01-01T00:00:00Z"))
                .setContributors(List.of(new Contributor("alice", 0.6), new Contributor("bob", 0.4)));
    }

    private byte[] bytes(AttributionEvent e) { return new AvroSerializer<AttributionEvent>(registry, false).serialize(TOPIC, e); }

    @Test
    void aWireFormatEventIsAccepted() {
        Decoded decoded = decoder.decode(TOPIC, bytes(event().build()));

        assertThat(decoded).isInstanceOf(Decoded.Accepted.class);
        assertThat(((Decoded.Accepted) decoded).event().getContributors()).hasSize(2);
    }

    @Test
    void bytesThatAreNotTheWireFormatAreMalformed() {
        Decoded decoded = decoder.decode(TOPIC, "not avro at all".getBytes(StandardCharsets.UTF_8));

        assertThat(decoded).isInstanceOfSatisfying(Decoded.Rejected.class, r -> {
            assertThat(r.errorCode()).isEqualTo("MALFORMED_RECORD");
            assertThat(r.reason()).contains("magic byte");
        });
    }

    @Test
    void aTruncatedBodyIsMalformed() {
        byte[] whole = bytes(event().build());
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length - 6);

        assertThat(decoder.decode(TOPIC, truncated)).isInstanceOfSatisfying(Decoded.Rejected.class,
                r -> assertThat(r.errorCode()).isEqualTo("MALFORMED_RECORD"));
    }

    @Test
    void anotherEventTypeIsAWrongSchema() {
        registry.setCompatibility(TOPIC + "-value", Compatibility.NONE);
        DeadLetter other = DeadLetter.newBuilder().setSourceTopic("x").setSourcePartition(0).setSourceOffset(1)
                .setErrorCode("E").setReason("r").setComponent("router").setFailedAtMs(Instant.EPOCH).build();
        byte[] value = new AvroSerializer<DeadLetter>(registry, false).serialize(TOPIC, other);

        assertThat(decoder.decode(TOPIC, value)).isInstanceOfSatisfying(Decoded.Rejected.class, r -> {
            assertThat(r.errorCode()).isEqualTo("WRONG_SCHEMA");
            assertThat(r.reason()).contains("DeadLetter");
        });
    }

    @Test
    void aNullValueIsMalformed() {
        assertThat(decoder.decode(TOPIC, null)).isInstanceOfSatisfying(Decoded.Rejected.class,
                r -> assertThat(r.reason()).contains("no value"));
    }

    @Test
    void negativeTokensAreRejectedNamingTheField() {
        Decoded decoded = decoder.decode(TOPIC, bytes(event().setCompletionTokens(-1).build()));

        assertThat(decoded).isInstanceOfSatisfying(Decoded.Rejected.class, r -> {
            assertThat(r.field()).isEqualTo("completion_tokens");
            assertThat(r.requestId()).isEqualTo("r1");
        });
    }

    @Test
    void aContributorListedTwiceIsRejected() {
        AttributionEvent e = event().setContributors(List.of(new Contributor("alice", 0.5), new Contributor("alice", 0.5))).build();

        assertThat(decoder.decode(TOPIC, bytes(e))).isInstanceOfSatisfying(Decoded.Rejected.class,
                r -> assertThat(r.reason()).contains("alice").contains("twice"));
    }

    @Test
    void aShareAboveOneIsRejected() {
        AttributionEvent e = event().setContributors(List.of(new Contributor("alice", 1.5))).build();

        assertThat(decoder.decode(TOPIC, bytes(e))).isInstanceOfSatisfying(Decoded.Rejected.class,
                r -> assertThat(r.field()).isEqualTo("contributors"));
    }

    @Test
    void anUnreachableRegistryIsThrownNotDeadLettered() {
        byte[] value = bytes(event().build());
        SchemaRegistryClient down = new SchemaRegistryClient() {
            public int register(String subject, Schema schema) { throw unreachable(); }
            public Schema schemaById(int id) { throw unreachable(); }
            public void setCompatibility(String subject, Compatibility level) { throw unreachable(); }
            public Compatibility compatibility(String subject) { throw unreachable(); }
            public boolean isCompatible(String subject, Schema schema) { throw unreachable(); }
            public String describe() { return "down"; }
            private SchemaRegistryException unreachable() { return new SchemaRegistryException("unreachable", 0, 0, null); }
        };

        assertThatThrownBy(() -> new RecordDecoder(down).decode(TOPIC, value)).isInstanceOf(SerializationException.class);
    }

    @Test
    void theDeadLetterCarriesTheOriginalBytesAndWhereTheyCameFrom() {
        byte[] key = "dermatology".getBytes(StandardCharsets.UTF_8);
        byte[] value = {1, 2, 3, 4, 5, 6};
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>(TOPIC, 3, 42L, key, value);
        Decoded.Rejected rejected = (Decoded.Rejected) decoder.decode(TOPIC, value);

        DeadLetter letter = DeadLetters.of(record, rejected, Instant.EPOCH);

        assertThat(letter.getComponent()).isEqualTo("sink");
        assertThat(letter.getSourceTopic()).isEqualTo(TOPIC);
        assertThat(letter.getSourcePartition()).isEqualTo(3);
        assertThat(letter.getSourceOffset()).isEqualTo(42L);
        assertThat(letter.getOriginalValue()).isEqualTo(ByteBuffer.wrap(value));
        assertThat(letter.getOriginalKey()).isEqualTo(ByteBuffer.wrap(key));
        assertThat(letter.getErrorCode()).isEqualTo("MALFORMED_RECORD");
        assertThat(letter.getReason()).isNotBlank();
    }
}
