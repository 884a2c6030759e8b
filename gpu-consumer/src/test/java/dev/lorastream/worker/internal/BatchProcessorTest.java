package dev.lorastream.worker.internal;

import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.registry.InMemorySchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.TopicDirectory;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.testing.FakeEngine;
import dev.lorastream.worker.testing.Requests;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BatchProcessorTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:05Z");
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final FakeEngine engine = new FakeEngine();
    private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    private final WorkerMetrics metrics = new WorkerMetrics();
    /** The cluster has every topic but {@code gone.replies}. */
    private final TopicDirectory topics = new TopicDirectory(topic -> !topic.equals("gone.replies"), clock, () -> { });
    private final BatchProcessor processor = new BatchProcessor(engine, new RequestDecoder(registry), new TaskFactory(engine, topics),
            new ResponseFactory("w-1", clock, topics), new AttributionFactory("w-1", engine, clock), new DeadLetters(clock),
            new GenerationRunner(engine, 3, new Backoff(Duration.ZERO, Duration.ZERO)), 3, clock, metrics);
    private long offset;

    private ConsumerRecord<byte[], byte[]> record(InferenceRequest request) {
        byte[] value = new AvroSerializer<InferenceRequest>(registry, false).serialize(Topics.ROUTED, request);
        return raw(AttributionFactory.keyFor(request.getAdapterId()), value);
    }

    private ConsumerRecord<byte[], byte[]> raw(String key, byte[] value) {
        return new ConsumerRecord<>(Topics.ROUTED, 1, offset++, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value);
    }

    private static <T> List<T> values(OutputBatch out, String topic, Class<T> type) {
        List<T> values = new ArrayList<>();
        for (ProducerRecord<String, SpecificRecord> r : out.records()) {
            if (r.topic().equals(topic)) values.add(type.cast(r.value()));
        }
        return values;
    }

    /**
     * Records written straight to the routed topic, past the router: an oversized one is answered TOO_LARGE without its
     * attributes and dead-lettered with a bounded copy; one whose reply topic is another pipeline topic (its schema would
     * refuse a response, and the stuck transaction stalled every partition) is answered on inference.responses.
     */
    @Test
    void recordsTheRouterWouldHaveRefusedAreAnsweredWhereTheAnswerFits() throws Exception {
        InferenceRequest big = Requests.request("big", "dermatology", "rash").setAttributes(java.util.Map.of("blob", "x".repeat(600_000))).build();
        InferenceRequest misdirected = Requests.request("misdirected", "dermatology", "rash").setReplyTopic(Topics.ATTRIBUTION).build();

        OutputBatch out = processor.process(List.of(record(big), record(misdirected)));

        List<InferenceResponse> responses = values(out, Topics.RESPONSES, InferenceResponse.class);
        assertThat(responses).extracting(InferenceResponse::getRequestId).containsExactlyInAnyOrder("big", "misdirected");
        InferenceResponse tooLarge = responses.stream().filter(r -> r.getRequestId().equals("big")).findFirst().orElseThrow();
        assertThat(tooLarge.getError().getCode()).isEqualTo("TOO_LARGE");
        assertThat(tooLarge.getAttributes()).isEmpty();
        assertThat(responses.stream().filter(r -> r.getRequestId().equals("misdirected")).findFirst().orElseThrow().getStatus()).isEqualTo(ResponseStatus.OK);
        assertThat(values(out, Topics.ATTRIBUTION, dev.lorastream.schemas.AttributionEvent.class)).extracting(e -> e.getRequestId()).containsExactly("misdirected");
        List<dev.lorastream.schemas.DeadLetter> letters = values(out, Topics.DLQ, dev.lorastream.schemas.DeadLetter.class);
        assertThat(letters).singleElement().satisfies(d -> {
            assertThat(d.getErrorCode()).isEqualTo("TOO_LARGE");
            assertThat(d.getOriginalValue().remaining()).isEqualTo(dev.lorastream.schemas.Limits.MAX_DEAD_LETTER_ORIGINAL_BYTES);
            assertThat(d.getOriginalSize()).isGreaterThan(600_000L);
        });
    }

    @Test
    void eachValidRequestGetsOneResponseAndOneAttributionKeyedAsTheTopicsSay() throws Exception {
        List<ConsumerRecord<byte[], byte[]>> records = List.of(
                record(Requests.request("a", "dermatology", "rash").build()),
                record(Requests.request("b", "cardiology", "palpitations").build()),
                record(Requests.request("c", null, "hello").build()));

        OutputBatch out = processor.process(records);

        List<InferenceResponse> responses = values(out, Topics.RESPONSES, InferenceResponse.class);
        assertThat(responses).extracting(InferenceResponse::getRequestId).containsExactly("a", "b", "c");
        assertThat(responses).allSatisfy(r -> {
            assertThat(r.getStatus()).isEqualTo(ResponseStatus.OK);
            assertThat(r.getTokenIds()).hasSize(4);
            assertThat(r.getText()).isEqualTo(engine.decode(r.getTokenIds().stream().mapToInt(Integer::intValue).toArray()));
        });
        assertThat(out.records()).filteredOn(r -> r.topic().equals(Topics.RESPONSES)).extracting(ProducerRecord::key)
                .containsExactly("a", "b", "c");
        assertThat(out.records()).filteredOn(r -> r.topic().equals(Topics.ATTRIBUTION)).extracting(ProducerRecord::key)
                .containsExactly("dermatology", "cardiology", Topics.BASE_MODEL_KEY);
        assertThat(values(out, Topics.ATTRIBUTION, AttributionEvent.class)).extracting(AttributionEvent::getEventId)
                .containsExactly("a", "b", "c");
        assertThat(values(out, Topics.DLQ, DeadLetter.class)).isEmpty();
    }

    @Test
    void validRequestsRunInBatchesOfAtMostMaxBatch() throws Exception {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < 7; i++) records.add(record(Requests.request("r" + i, i % 2 == 0 ? "dermatology" : null, "p" + i).build()));

        OutputBatch out = processor.process(records);

        assertThat(engine.batchSizes()).containsExactly(3, 3, 1);
        assertThat(out.attributions()).isEqualTo(7);
    }

    @Test
    void poisonBytesAreDeadLetteredWithTheirOriginalBytesAndNoResponse() throws Exception {
        byte[] poison = "\u0001garbage".getBytes(StandardCharsets.UTF_8);

        OutputBatch out = processor.process(List.of(raw("poison-key", poison)));

        List<DeadLetter> dls = values(out, Topics.DLQ, DeadLetter.class);
        assertThat(dls).hasSize(1);
        assertThat(dls.getFirst().getErrorCode()).isEqualTo(ErrorCode.MALFORMED_RECORD.name());
        assertThat(dls.getFirst().getRequestId()).isEqualTo("poison-key");
        assertThat(dls.getFirst().getOriginalValue()).isEqualTo(ByteBuffer.wrap(poison));
        assertThat(dls.getFirst().getSourceTopic()).isEqualTo(Topics.ROUTED);
        assertThat(out.responses()).isZero();
        assertThat(engine.batchSizes()).isEmpty();
    }

    @Test
    void anInvalidTaskGetsAnErrorResponseAndADeadLetterAndIsNotGenerated() throws Exception {
        ConsumerRecord<byte[], byte[]> unknown = record(Requests.request("u-1", "radiology", "scan").build());

        OutputBatch out = processor.process(List.of(unknown));

        InferenceResponse response = values(out, Topics.RESPONSES, InferenceResponse.class).getFirst();
        assertThat(response.getStatus()).isEqualTo(ResponseStatus.ERROR);
        assertThat(response.getError().getCode()).isEqualTo("UNKNOWN_ADAPTER");
        assertThat(response.getError().getField()).isEqualTo("adapter_id");
        assertThat(response.getAttributes()).containsEntry("trace", "t-u-1");
        DeadLetter dl = values(out, Topics.DLQ, DeadLetter.class).getFirst();
        assertThat(dl.getRequestId()).isEqualTo("u-1");
        assertThat(dl.getErrorCode()).isEqualTo("UNKNOWN_ADAPTER");
        assertThat(dl.getField()).isEqualTo("adapter_id");
        assertThat(dl.getOriginalValue()).isEqualTo(ByteBuffer.wrap(unknown.value()));
        assertThat(dl.getSourceOffset()).isEqualTo(unknown.offset());
        assertThat(out.attributions()).isZero();
        assertThat(engine.batchSizes()).isEmpty();
    }

    @Test
    void aRequestWithoutAnyPromptIsInvalid() throws Exception {
        OutputBatch out = processor.process(List.of(record(Requests.request("n-1", null, null).build())));

        assertThat(values(out, Topics.RESPONSES, InferenceResponse.class).getFirst().getError().getCode())
                .isEqualTo(ErrorCode.INVALID_REQUEST.name());
        assertThat(values(out, Topics.DLQ, DeadLetter.class).getFirst().getField()).isEqualTo("prompt");
    }

    @Test
    void promptTokenIdsAreUsedWhenThereIsNoPromptText() throws Exception {
        InferenceRequest byIds = Requests.request("t-1", null, null).setPromptTokenIds(List.of(1, 50, 60)).build();

        OutputBatch out = processor.process(List.of(record(byIds)));

        assertThat(values(out, Topics.RESPONSES, InferenceResponse.class).getFirst().getPromptTokens()).isEqualTo(3);
        assertThat(values(out, Topics.ATTRIBUTION, AttributionEvent.class).getFirst().getPromptTokens()).isEqualTo(3);
    }

    @Test
    void anExpiredRequestIsAnsweredDeadlineExceededWithoutRunning() throws Exception {
        InferenceRequest late = Requests.request("d-1", "cardiology", "x").setDeadlineMs(NOW.minusMillis(1)).build();

        OutputBatch out = processor.process(List.of(record(late)));

        InferenceResponse r = values(out, Topics.RESPONSES, InferenceResponse.class).getFirst();
        assertThat(r.getError().getCode()).isEqualTo(ErrorCode.DEADLINE_EXCEEDED.name());
        assertThat(out.attributions()).isZero();
        assertThat(engine.batchSizes()).isEmpty();
    }

    @Test
    void errorsGoToTheCallersReplyTopic() throws Exception {
        InferenceRequest request = Requests.request("p-1", "nope", "x").setReplyTopic("inference.responses.client-42").build();

        OutputBatch out = processor.process(List.of(record(request)));

        assertThat(out.records()).filteredOn(r -> r.value() instanceof InferenceResponse)
                .extracting(ProducerRecord::topic).containsExactly("inference.responses.client-42");
    }

    @Test
    void aReplyTopicTheClusterDoesNotHaveIsAnsweredOnTheDefaultTopicWithoutGenerating() throws Exception {
        InferenceRequest request = Requests.request("g-1", "dermatology", "x").setReplyTopic("gone.replies").build();

        OutputBatch out = processor.process(List.of(record(request)));

        assertThat(engine.batchSizes()).isEmpty();
        assertThat(out.records()).extracting(ProducerRecord::topic).doesNotContain("gone.replies");
        List<InferenceResponse> responses = values(out, Topics.RESPONSES, InferenceResponse.class);
        assertThat(responses).singleElement().satisfies(r -> {
            assertThat(r.getStatus()).isEqualTo(ResponseStatus.ERROR);
            assertThat(r.getError().getCode()).isEqualTo(ErrorCode.INVALID_REQUEST.name());
            assertThat(r.getError().getField()).isEqualTo("reply_topic");
            assertThat(r.getError().getMessage()).contains("'gone.replies' does not exist");
        });
        assertThat(values(out, Topics.DLQ, DeadLetter.class)).singleElement()
                .satisfies(d -> assertThat(d.getField()).isEqualTo("reply_topic"));
    }

    @Test
    void anEngineThatKeepsFailingAnswersTheBatchWithInternalErrorsAfterBoundedRetries() throws Exception {
        engine.failNext(3);
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < 4; i++) records.add(record(Requests.request("f" + i, "dermatology", "p" + i).build()));

        OutputBatch out = processor.process(records);

        assertThat(engine.batchSizes()).containsExactly(3, 3, 3, 1);
        List<InferenceResponse> responses = values(out, Topics.RESPONSES, InferenceResponse.class);
        assertThat(responses).filteredOn(r -> r.getStatus() == ResponseStatus.ERROR)
                .extracting(InferenceResponse::getRequestId).containsExactly("f0", "f1", "f2");
        assertThat(responses).filteredOn(r -> r.getStatus() == ResponseStatus.ERROR)
                .allSatisfy(r -> assertThat(r.getError().getCode()).isEqualTo(ErrorCode.INTERNAL.name()));
        assertThat(values(out, Topics.DLQ, DeadLetter.class)).extracting(DeadLetter::getRequestId).containsExactly("f0", "f1", "f2");
        assertThat(values(out, Topics.ATTRIBUTION, AttributionEvent.class)).extracting(AttributionEvent::getRequestId).containsExactly("f3");
    }

    @Test
    void anEngineThatFailsOnceIsRetriedAndServes() throws Exception {
        engine.failNext(1);

        OutputBatch out = processor.process(List.of(record(Requests.request("o-1", "cardiology", "x").build())));

        assertThat(engine.batchSizes()).containsExactly(1, 1);
        assertThat(values(out, Topics.RESPONSES, InferenceResponse.class).getFirst().getStatus()).isEqualTo(ResponseStatus.OK);
        assertThat(out.deadLetters()).isZero();
    }
}
