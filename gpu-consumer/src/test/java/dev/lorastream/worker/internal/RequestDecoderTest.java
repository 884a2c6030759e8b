package dev.lorastream.worker.internal;

import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.registry.Compatibility;
import dev.lorastream.schemas.registry.InMemorySchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryException;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.testing.Requests;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestDecoderTest {
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final RequestDecoder decoder = new RequestDecoder(registry);

    private static ConsumerRecord<byte[], byte[]> routed(byte[] value) {
        return new ConsumerRecord<>(Topics.ROUTED, 0, 7L, "dermatology".getBytes(StandardCharsets.UTF_8), value);
    }

    private byte[] requestBytes(InferenceRequest request) {
        return new AvroSerializer<InferenceRequest>(registry, false).serialize(Topics.ROUTED, request);
    }

    @Test
    void aValidRequestDecodesWithItsFields() {
        InferenceRequest sent = Requests.request("r-1", "dermatology", "dry skin").build();

        RequestDecoder.Result result = decoder.decode(routed(requestBytes(sent)));

        assertThat(result).isInstanceOf(RequestDecoder.Decoded.class);
        assertThat(((RequestDecoder.Decoded) result).request()).isEqualTo(sent);
    }

    @Test
    void bytesWithoutTheMagicByteAreMalformed() {
        RequestDecoder.Result result = decoder.decode(routed("this is not avro".getBytes(StandardCharsets.UTF_8)));

        assertThat(result).isInstanceOf(RequestDecoder.Refused.class);
        assertThat(((RequestDecoder.Refused) result).code()).isEqualTo(ErrorCode.MALFORMED_RECORD.name());
        assertThat(((RequestDecoder.Refused) result).reason()).contains("magic byte");
    }

    @Test
    void tooShortBytesAreMalformed() {
        RequestDecoder.Result result = decoder.decode(routed(new byte[]{0, 1}));

        assertThat(result).isInstanceOf(RequestDecoder.Refused.class);
        assertThat(((RequestDecoder.Refused) result).code()).isEqualTo(ErrorCode.MALFORMED_RECORD.name());
        assertThat(((RequestDecoder.Refused) result).reason()).contains("too short");
    }

    @Test
    void aRecordOfAnotherTypeIsWrongSchema() {
        WorkerStatus status = WorkerStatus.newBuilder().setWorkerId("w").setHost("h").setState("RUNNING")
                .setRunningRequests(0).setWaitingRequests(0).setFreeMemoryBytes(1).setExecutionProvider("CPU")
                .setBaseModel("m").setHeartbeatAtMs(Instant.EPOCH).build();
        byte[] bytes = new AvroSerializer<WorkerStatus>(registry, false).serialize(Topics.WORKER_STATUS, status);

        RequestDecoder.Result result = decoder.decode(routed(bytes));

        assertThat(result).isInstanceOf(RequestDecoder.Refused.class);
        assertThat(((RequestDecoder.Refused) result).code()).isEqualTo(ErrorCode.WRONG_SCHEMA.name());
        assertThat(((RequestDecoder.Refused) result).reason()).contains("WorkerStatus");
    }

    @Test
    void anUnknownSchemaIdIsMalformed() {
        byte[] bytes = {0, 0, 0, 0x7f, (byte) 0xff, 2, 3, 4};

        RequestDecoder.Result result = decoder.decode(routed(bytes));

        assertThat(result).isInstanceOf(RequestDecoder.Refused.class);
        assertThat(((RequestDecoder.Refused) result).code()).isEqualTo(ErrorCode.MALFORMED_RECORD.name());
        assertThat(((RequestDecoder.Refused) result).reason()).contains("32767");
    }

    @Test
    void aTruncatedBodyIsMalformed() {
        byte[] whole = requestBytes(Requests.request("r-2", null, "hello there").build());

        RequestDecoder.Result result = decoder.decode(routed(Arrays.copyOf(whole, whole.length - 6)));

        assertThat(result).isInstanceOf(RequestDecoder.Refused.class);
        assertThat(((RequestDecoder.Refused) result).code()).isEqualTo(ErrorCode.MALFORMED_RECORD.name());
    }

    @Test
    void aTombstoneIsMalformed() {
        RequestDecoder.Result result = decoder.decode(routed(null));

        assertThat(result).isInstanceOf(RequestDecoder.Refused.class);
        assertThat(((RequestDecoder.Refused) result).code()).isEqualTo(ErrorCode.MALFORMED_RECORD.name());
    }

    @Test
    void anUnreachableRegistryIsRetriedNotDeadLettered() {
        byte[] bytes = requestBytes(Requests.request("r-3", null, "hi").build());
        RequestDecoder offline = new RequestDecoder(new UnreachableRegistry());

        assertThatThrownBy(() -> offline.decode(routed(bytes)))
                .isInstanceOf(RequestDecoder.RegistryUnavailableException.class)
                .hasMessageContaining("unreachable");
    }

    /** A registry whose every call fails as an unreachable one does (HTTP status 0). */
    private static final class UnreachableRegistry implements SchemaRegistryClient {
        private static SchemaRegistryException down() {
            return new SchemaRegistryException("schema registry http://nowhere unreachable", 0, 0, null);
        }
        @Override public int register(String subject, Schema schema) { throw down(); }
        @Override public Schema schemaById(int id) { throw down(); }
        @Override public void setCompatibility(String subject, Compatibility level) { throw down(); }
        @Override public Compatibility compatibility(String subject) { throw down(); }
        @Override public boolean isCompatible(String subject, Schema schema) { throw down(); }
        @Override public String describe() { return "http://nowhere"; }
    }
}
