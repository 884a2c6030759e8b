package dev.lorastream.router.internal;

import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.registry.InMemorySchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryException;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DeadLetterExceptionHandlerTest {
    private static final byte[] KEY = "r-9".getBytes(StandardCharsets.UTF_8);
    private static final byte[] VALUE = {1, 2, 3};

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final DeadLetterExceptionHandler handler = new DeadLetterExceptionHandler();
    private final Context context = new Context();

    @BeforeEach
    void configure() { handler.configure(Map.of(DeadLetterExceptionHandler.REGISTRY_CLIENT_CONFIG, registry)); }

    @Test
    void aRecordThatFailsDeserializationIsDeadLetteredAndProcessingResumes() {
        var record = new ConsumerRecord<>(Topics.REQUESTS, 3, 42L, KEY, VALUE);

        DeserializationExceptionHandler.Response response =
                handler.handleError(context, record, new SerializationException("bad bytes"));

        assertThat(response.result()).isEqualTo(DeserializationExceptionHandler.Result.RESUME);
        DeadLetter letter = onlyLetter(response.deadLetterQueueRecords().getFirst());
        assertThat(letter.getErrorCode()).isEqualTo(ErrorCode.MALFORMED_RECORD.name());
        assertThat(letter.getReason()).contains("bad bytes");
    }

    @Test
    void aRecordThatFailsProcessingIsDeadLetteredAsInternalWithItsSourceBytes() {
        ProcessingExceptionHandler.Response response =
                handler.handleError(context, new Record<>("r-9", "decoded", 0L), new IllegalStateException("boom"));

        assertThat(response.result()).isEqualTo(ProcessingExceptionHandler.Result.RESUME);
        DeadLetter letter = onlyLetter(response.deadLetterQueueRecords().getFirst());
        assertThat(letter.getErrorCode()).isEqualTo(ErrorCode.INTERNAL.name());
        assertThat(letter.getReason()).contains("boom").contains("validate-and-route");
    }

    @Test
    void aRetriableFailureFailsTheThreadSoTheRecordIsRetried() {
        var retriable = new SerializationException("cannot fetch schema", new SchemaRegistryException("unreachable", 0, 0, null));

        assertThat(handler.handleError(context, new Record<>("r-9", "v", 0L), retriable).result())
                .isEqualTo(ProcessingExceptionHandler.Result.FAIL);
        assertThat(handler.handleError(context, new ConsumerRecord<>(Topics.REQUESTS, 3, 42L, KEY, VALUE), retriable).result())
                .isEqualTo(DeserializationExceptionHandler.Result.FAIL);
    }

    @Test
    void withoutARegistryTheHandlerRefusesToStart() {
        assertThatThrownBy(() -> new DeadLetterExceptionHandler().configure(Map.of()))
                .hasMessageContaining("schema.registry.url");
    }

    private DeadLetter onlyLetter(ProducerRecord<byte[], byte[]> produced) {
        assertThat(produced.topic()).isEqualTo(Topics.DLQ);
        assertThat(produced.key()).isEqualTo(KEY);
        DeadLetter letter = new AvroDeserializer<>(registry, DeadLetter.class).deserialize(Topics.DLQ, produced.value());
        assertThat(letter.getSourceTopic()).isEqualTo(Topics.REQUESTS);
        assertThat(letter.getSourcePartition()).isEqualTo(3);
        assertThat(letter.getSourceOffset()).isEqualTo(42L);
        assertThat(letter.getOriginalKey()).isEqualTo(ByteBuffer.wrap(KEY));
        assertThat(letter.getOriginalValue()).isEqualTo(ByteBuffer.wrap(VALUE));
        assertThat(letter.getComponent()).isEqualTo("router");
        return letter;
    }

    private static final class Context implements ErrorHandlerContext {
        @Override public String topic() { return Topics.REQUESTS; }
        @Override public int partition() { return 3; }
        @Override public long offset() { return 42L; }
        @Override public Headers headers() { return new RecordHeaders(); }
        @Override public String processorNodeId() { return "validate-and-route"; }
        @Override public TaskId taskId() { return new TaskId(0, 3); }
        @Override public long timestamp() { return 0L; }
        @Override public byte[] sourceRawKey() { return KEY; }
        @Override public byte[] sourceRawValue() { return VALUE; }
    }
}
