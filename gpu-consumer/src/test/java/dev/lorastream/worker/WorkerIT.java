package dev.lorastream.worker;

import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.Contributor;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.engine.demo.DemoModels;
import dev.lorastream.engine.onnx.OnnxLoraEngine;
import dev.lorastream.worker.testing.PipelineFixture;
import dev.lorastream.worker.testing.Requests;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** One worker on the real broker, registry and engine: every request answered once, bad input dead-lettered. */
class WorkerIT {
    private static final List<String> ADAPTERS = Arrays.asList("dermatology", "cardiology", "nutrition", null);
    private static PipelineFixture fixture;
    private static OnnxLoraEngine engine;

    @BeforeAll
    static void platform() {
        fixture = new PipelineFixture();
        engine = fixture.openEngine(4);
    }

    @AfterAll
    static void engine() {
        if (engine != null) engine.close();
    }

    @Test
    void everyRequestIsAnsweredAndAttributedExactlyOnceAndBadInputIsDeadLettered() throws Exception {
        String prefix = "wit-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        Map<TopicPartition, Long> responsesFrom = fixture.endOffsets(Topics.RESPONSES);
        Map<TopicPartition, Long> attributionFrom = fixture.endOffsets(Topics.ATTRIBUTION);
        Map<TopicPartition, Long> dlqFrom = fixture.endOffsets(Topics.DLQ);
        List<InferenceRequest> requests = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            requests.add(Requests.request(prefix + i, ADAPTERS.get(i % 4), "patient question number " + i)
                    .setParams(Requests.params(6)).setAttributes(Map.of("it", prefix)).build());
        }
        fixture.produceAll(requests);
        InferenceRequest unknown = Requests.request(prefix + "unknown", "radiology", "what is on this scan").build();
        RecordMetadata unknownAt = fixture.produce(unknown);
        String missingReplies = prefix + "never.created";
        fixture.produce(Requests.request(prefix + "noreply", "dermatology", "where does my answer go").setReplyTopic(missingReplies).build());
        byte[] poison = "definitely not avro".getBytes(StandardCharsets.UTF_8);
        RecordMetadata poisonAt = fixture.produceRaw((prefix + "poison").getBytes(StandardCharsets.UTF_8), poison, null);
        byte[] wrong = fixture.serializedFor(Topics.WORKER_STATUS, WorkerStatus.newBuilder().setWorkerId("impostor").setHost("h")
                .setState("RUNNING").setRunningRequests(0).setWaitingRequests(0).setFreeMemoryBytes(1)
                .setExecutionProvider("CPU").setBaseModel("m").setHeartbeatAtMs(Instant.now()).build());
        RecordMetadata wrongAt = fixture.produceRaw((prefix + "wrong").getBytes(StandardCharsets.UTF_8), wrong, null);

        try (Worker worker = new Worker(fixture.workerConfig(prefix + "w", Map.of()), engine)) {
            worker.start();
            fixture.awaitCommitted(Topics.RESPONSES, responsesFrom, InferenceResponse.class, r -> r.getRequestId().startsWith(prefix),
                    read -> read.size() >= 18, Duration.ofMinutes(3));
            fixture.awaitCommitted(Topics.DLQ, dlqFrom, DeadLetter.class, d -> d.getRequestId() != null && d.getRequestId().startsWith(prefix),
                    read -> read.size() >= 4, Duration.ofMinutes(1));
        }

        List<InferenceResponse> responses = values(fixture.readCommitted(Topics.RESPONSES, responsesFrom, InferenceResponse.class,
                r -> r.getRequestId().startsWith(prefix)));
        assertThat(responses).extracting(InferenceResponse::getRequestId).doesNotHaveDuplicates().hasSize(18);
        Map<String, InferenceResponse> byId = responses.stream().collect(Collectors.toMap(InferenceResponse::getRequestId, Function.identity()));
        for (InferenceRequest r : requests) {
            InferenceResponse answer = byId.get(r.getRequestId());
            assertThat(answer).as(r.getRequestId()).isNotNull();
            assertThat(answer.getStatus()).isEqualTo(ResponseStatus.OK);
            assertThat(answer.getAdapterId()).isEqualTo(r.getAdapterId());
            assertThat(answer.getCompletionTokens()).isBetween(1, 6).isEqualTo(answer.getTokenIds().size());
            assertThat(answer.getPromptTokens()).isPositive();
            assertThat(answer.getText()).isNotNull();
            assertThat(answer.getFinishReason()).isIn("length", "eos");
            assertThat(answer.getWorkerId()).isEqualTo(prefix + "w");
            assertThat(answer.getAttributes()).containsEntry("it", prefix);
        }
        InferenceResponse refused = byId.get(prefix + "unknown");
        assertThat(refused.getStatus()).isEqualTo(ResponseStatus.ERROR);
        assertThat(refused.getError().getCode()).isEqualTo("UNKNOWN_ADAPTER");
        // a reply topic the cluster does not have: answered on inference.responses, the topic not created by the attempt
        InferenceResponse misaddressed = byId.get(prefix + "noreply");
        assertThat(misaddressed.getStatus()).isEqualTo(ResponseStatus.ERROR);
        assertThat(misaddressed.getError().getField()).isEqualTo("reply_topic");
        assertThat(misaddressed.getError().getMessage()).contains(missingReplies, "does not exist");
        assertThat(fixture.topicNames()).doesNotContain(missingReplies);

        List<ConsumerRecord<String, AttributionEvent>> attribution = fixture.readCommitted(Topics.ATTRIBUTION, attributionFrom,
                AttributionEvent.class, e -> e.getRequestId().startsWith(prefix));
        assertThat(attribution).extracting(r -> r.value().getEventId()).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(requests.stream().map(InferenceRequest::getRequestId).toList());
        for (ConsumerRecord<String, AttributionEvent> r : attribution) {
            AttributionEvent e = r.value();
            assertThat(r.key()).isEqualTo(e.getAdapterId() == null ? Topics.BASE_MODEL_KEY : e.getAdapterId());
            assertThat(e.getBaseModel()).isEqualTo(engine.model().baseModel());
            assertThat(e.getWorkerId()).isEqualTo(prefix + "w");
            assertThat(e.getComputeMs()).isPositive();
            if (e.getAdapterId() == null) {
                assertThat(e.getContributors()).isEmpty();
            } else {
                assertThat(e.getAdapterVersion()).isNotBlank();
                assertThat(e.getContributors().stream().mapToDouble(Contributor::getShare).sum()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
            }
        }

        Map<String, DeadLetter> dlq = values(fixture.readCommitted(Topics.DLQ, dlqFrom, DeadLetter.class,
                d -> d.getRequestId() != null && d.getRequestId().startsWith(prefix))).stream()
                .collect(Collectors.toMap(DeadLetter::getRequestId, Function.identity()));
        assertThat(dlq.keySet()).containsExactlyInAnyOrder(prefix + "poison", prefix + "wrong", prefix + "unknown", prefix + "noreply");
        assertThat(dlq.get(prefix + "noreply").getField()).isEqualTo("reply_topic");
        assertDeadLetter(dlq.get(prefix + "poison"), "MALFORMED_RECORD", poisonAt, poison);
        assertDeadLetter(dlq.get(prefix + "wrong"), "WRONG_SCHEMA", wrongAt, wrong);
        assertDeadLetter(dlq.get(prefix + "unknown"), "UNKNOWN_ADAPTER", unknownAt, null);
        assertThat(dlq.get(prefix + "unknown").getField()).isEqualTo("adapter_id");
    }

    /**
     * Issue 11: a response too large for its topic used to fail the worker's transaction on every
     * retry, stalling all its partitions. Now the record is answered TOO_LARGE (attributes not
     * echoed, so the answer fits), dead-lettered, not billed, and the requests behind it are served.
     */
    @Test
    void aResponseTooLargeForItsTopicIsAnsweredTooLargeAndThePartitionGoesOn() throws Exception {
        String prefix = "big-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        String smallReplies = Topics.RESPONSES + "." + prefix + "small";
        fixture.createTopic(smallReplies, 1, Map.of("max.message.bytes", "65536"));
        Map<TopicPartition, Long> responsesFrom = fixture.endOffsets(Topics.RESPONSES);
        Map<TopicPartition, Long> attributionFrom = fixture.endOffsets(Topics.ATTRIBUTION);
        Map<TopicPartition, Long> dlqFrom = fixture.endOffsets(Topics.DLQ);
        InferenceRequest big = Requests.request(prefix + "big", "dermatology", "a question with much metadata")
                .setParams(Requests.params(4)).setReplyTopic(smallReplies).setAttributes(Map.of("blob", randomText(200_000))).build();
        InferenceRequest after = Requests.request(prefix + "after", "dermatology", "the question behind it")
                .setParams(Requests.params(4)).build();
        RecordMetadata bigAt = fixture.produce(big);
        RecordMetadata afterAt = fixture.produce(after);
        assertThat(afterAt.partition()).isEqualTo(bigAt.partition()); // same key: behind it on its partition

        try (Worker worker = new Worker(fixture.workerConfig(prefix + "w", Map.of()), engine)) {
            worker.start();
            fixture.awaitCommitted(Topics.RESPONSES, responsesFrom, InferenceResponse.class, r -> r.getRequestId().startsWith(prefix),
                    read -> !read.isEmpty(), Duration.ofMinutes(1));
            fixture.awaitCommitted(smallReplies, Map.of(), InferenceResponse.class, r -> true, read -> !read.isEmpty(), Duration.ofSeconds(30));
            assertThat(worker.metrics().unpublishableCount()).isEqualTo(1);
        }

        List<InferenceResponse> refused = values(fixture.readCommitted(smallReplies, Map.of(), InferenceResponse.class, r -> true));
        assertThat(refused).singleElement().satisfies(r -> {
            assertThat(r.getRequestId()).isEqualTo(prefix + "big");
            assertThat(r.getStatus()).isEqualTo(ResponseStatus.ERROR);
            assertThat(r.getError().getCode()).isEqualTo("TOO_LARGE");
            assertThat(r.getError().getMessage()).contains("response", smallReplies);
            assertThat(r.getAttributes()).isEmpty();
        });
        List<InferenceResponse> served = values(fixture.readCommitted(Topics.RESPONSES, responsesFrom, InferenceResponse.class,
                r -> r.getRequestId().startsWith(prefix)));
        assertThat(served).extracting(InferenceResponse::getRequestId).containsExactly(prefix + "after");
        assertThat(served.getFirst().getStatus()).isEqualTo(ResponseStatus.OK);
        assertThat(fixture.readCommitted(Topics.ATTRIBUTION, attributionFrom, AttributionEvent.class, e -> e.getRequestId().startsWith(prefix)))
                .extracting(r -> r.value().getRequestId()).containsExactly(prefix + "after");
        DeadLetter letter = values(fixture.readCommitted(Topics.DLQ, dlqFrom, DeadLetter.class,
                d -> d.getRequestId() != null && d.getRequestId().startsWith(prefix))).stream().reduce((a, b) -> { throw new AssertionError("more than one dead letter: " + a + ", " + b); }).orElseThrow();
        assertThat(letter.getRequestId()).isEqualTo(prefix + "big");
        assertThat(letter.getErrorCode()).isEqualTo("TOO_LARGE");
        assertThat(letter.getSourceOffset()).isEqualTo(bigAt.offset());
    }

    @Test
    void aStreamingRequestsTokensArriveOnTheStreamTopicAsGeneratedAndAddUpToItsResponse() throws Exception {
        String prefix = "wis-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        Map<TopicPartition, Long> responsesFrom = fixture.endOffsets(Topics.RESPONSES);
        Map<TopicPartition, Long> streamFrom = fixture.endOffsets(Topics.STREAM);
        List<InferenceRequest> requests = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            var params = Requests.params(8);
            params.setStream(i % 2 == 0);
            params.setIgnoreEos(true);
            requests.add(Requests.request(prefix + i, ADAPTERS.get(i % 4), "stream question " + i).setParams(params).build());
        }
        fixture.produceAll(requests);
        try (Worker worker = new Worker(fixture.workerConfig(prefix + "w", Map.of()), engine)) {
            worker.start();
            fixture.awaitCommitted(Topics.RESPONSES, responsesFrom, InferenceResponse.class, r -> r.getRequestId().startsWith(prefix),
                    read -> read.size() >= 4, Duration.ofMinutes(2));
        }
        Map<String, InferenceResponse> byId = values(fixture.readCommitted(Topics.RESPONSES, responsesFrom, InferenceResponse.class,
                r -> r.getRequestId().startsWith(prefix))).stream().collect(Collectors.toMap(InferenceResponse::getRequestId, Function.identity()));
        List<ConsumerRecord<String, dev.lorastream.schemas.TokenChunk>> chunks = fixture.readCommitted(Topics.STREAM, streamFrom,
                dev.lorastream.schemas.TokenChunk.class, c -> c.getRequestId().startsWith(prefix));
        for (InferenceRequest r : requests) {
            List<dev.lorastream.schemas.TokenChunk> mine = chunks.stream().map(ConsumerRecord::value)
                    .filter(c -> c.getRequestId().equals(r.getRequestId())).toList();
            if (!r.getParams().getStream()) {
                assertThat(mine).as("a request that does not ask to stream").isEmpty();
                continue;
            }
            InferenceResponse answer = byId.get(r.getRequestId());
            assertThat(answer.getStatus()).isEqualTo(ResponseStatus.OK);
            assertThat(chunks).filteredOn(c -> c.value().getRequestId().equals(r.getRequestId())).extracting(ConsumerRecord::key)
                    .containsOnly(r.getRequestId());
            assertThat(mine).extracting(dev.lorastream.schemas.TokenChunk::getAttempt).hasSize(mine.size()).containsOnly(mine.getFirst().getAttempt());
            List<Integer> tokens = new ArrayList<>();
            StringBuilder text = new StringBuilder();
            for (var c : mine) {
                assertThat(c.getTokenOffset()).isEqualTo(tokens.size());
                assertThat(c.getTextOffset()).isEqualTo(text.length());
                tokens.addAll(c.getTokenIds());
                text.append(c.getText());
                assertThat(c.getWorkerId()).isEqualTo(prefix + "w");
            }
            assertThat(tokens).as("streamed tokens").isEqualTo(answer.getTokenIds());
            assertThat(text.toString()).as("streamed text").isEqualTo(answer.getText());
            assertThat(mine.size()).as("chunks (one per step at most)").isBetween(1, 8);
        }
    }

    @Test
    void heartbeatsReportTheWorkersStateAndResidentAdapters() throws Exception {
        String workerId = "wit-hb-" + UUID.randomUUID().toString().substring(0, 8);
        Map<TopicPartition, Long> from = fixture.endOffsets(Topics.WORKER_STATUS);

        try (Worker worker = new Worker(fixture.workerConfig(workerId, Map.of()), engine)) {
            worker.start();
            fixture.awaitCommitted(Topics.WORKER_STATUS, from, WorkerStatus.class, s -> s.getWorkerId().equals(workerId),
                    read -> read.stream().anyMatch(r -> r.value().getState().equals("RUNNING")), Duration.ofSeconds(30));
        }

        List<ConsumerRecord<String, WorkerStatus>> beats = fixture.readCommitted(Topics.WORKER_STATUS, from, WorkerStatus.class,
                s -> s.getWorkerId().equals(workerId));
        assertThat(beats).isNotEmpty().allSatisfy(r -> assertThat(r.key()).isEqualTo(workerId));
        WorkerStatus running = beats.stream().map(ConsumerRecord::value).filter(s -> s.getState().equals("RUNNING"))
                .reduce((a, b) -> b).orElseThrow();
        assertThat(running.getResidentAdapters()).containsAll(DemoModels.ADAPTERS);
        assertThat(running.getBaseModel()).isEqualTo(engine.model().baseModel());
        assertThat(running.getExecutionProvider()).isEqualToIgnoringCase("cpu");
        assertThat(running.getFreeMemoryBytes()).isPositive();
        assertThat(beats.getLast().value().getState()).isEqualTo("STOPPING");
        assertThat(Set.of("STARTING", "RUNNING", "STOPPING")).containsAll(beats.stream().map(r -> r.value().getState()).toList());
    }

    private static void assertDeadLetter(DeadLetter dl, String code, RecordMetadata at, byte[] originalValue) {
        assertThat(dl.getErrorCode()).isEqualTo(code);
        assertThat(dl.getComponent()).isEqualTo("worker");
        assertThat(dl.getSourceTopic()).isEqualTo(Topics.ROUTED);
        assertThat(dl.getSourcePartition()).isEqualTo(at.partition());
        assertThat(dl.getSourceOffset()).isEqualTo(at.offset());
        assertThat(dl.getReason()).isNotBlank();
        assertThat(dl.getOriginalValue()).isNotNull();
        if (originalValue != null) assertThat(dl.getOriginalValue()).isEqualTo(ByteBuffer.wrap(originalValue));
    }

    /** Text that compression cannot shrink below its size. */
    private static String randomText(int chars) {
        StringBuilder b = new StringBuilder(chars + 36);
        while (b.length() < chars) b.append(UUID.randomUUID());
        return b.substring(0, chars);
    }

    private static <T> List<T> values(List<ConsumerRecord<String, T>> records) {
        return records.stream().map(ConsumerRecord::value).toList();
    }
}
