package dev.lorastream.worker;

import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.onnx.OnnxLoraEngine;
import dev.lorastream.worker.testing.PipelineFixture;
import dev.lorastream.worker.testing.Requests;
import dev.lorastream.worker.testing.ThrottledEngine;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exactly-once across worker restarts on the real broker, registry and engine: a worker closed in
 * the middle of a run and a new one with the same worker id; a new instance fencing a running one.
 */
class WorkerRestartIT {
    private static final List<String> ADAPTERS = Arrays.asList("dermatology", "cardiology", "nutrition", null);
    private static PipelineFixture fixture;
    private static OnnxLoraEngine real;
    private static InferenceEngine engine;

    @BeforeAll
    static void platform() {
        fixture = new PipelineFixture();
        real = fixture.openEngine(4);
        engine = new ThrottledEngine(real, Duration.ofMillis(150));
    }

    @AfterAll
    static void engine() {
        if (real != null) real.close();
    }

    private static List<InferenceRequest> requests(String prefix, int from, int count) {
        List<InferenceRequest> out = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            out.add(Requests.request(prefix + i, ADAPTERS.get(i % 4), "question " + i + " about my health")
                    .setParams(Requests.params(8)).build());
        }
        return out;
    }

    private static List<String> ids(List<InferenceRequest> requests) {
        return requests.stream().map(InferenceRequest::getRequestId).toList();
    }

    private static List<ConsumerRecord<String, InferenceResponse>> awaitResponses(Map<TopicPartition, Long> from, String prefix,
                                                                                int atLeast, Duration timeout) throws InterruptedException {
        return fixture.awaitCommitted(Topics.RESPONSES, from, InferenceResponse.class, r -> r.getRequestId().startsWith(prefix),
                read -> read.size() >= atLeast, timeout);
    }

    private static void assertExactlyOnce(Map<TopicPartition, Long> responsesFrom, Map<TopicPartition, Long> attributionFrom,
                                          String prefix, List<InferenceRequest> sent) {
        List<InferenceResponse> responses = fixture.readCommitted(Topics.RESPONSES, responsesFrom, InferenceResponse.class,
                r -> r.getRequestId().startsWith(prefix)).stream().map(ConsumerRecord::value).toList();
        assertThat(responses).extracting(InferenceResponse::getRequestId).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(ids(sent));
        assertThat(responses).allSatisfy(r -> assertThat(r.getStatus()).isEqualTo(ResponseStatus.OK));
        List<AttributionEvent> events = fixture.readCommitted(Topics.ATTRIBUTION, attributionFrom, AttributionEvent.class,
                e -> e.getRequestId().startsWith(prefix)).stream().map(ConsumerRecord::value).toList();
        assertThat(events).extracting(AttributionEvent::getEventId).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(ids(sent));
    }

    @Test
    void aWorkerClosedMidRunAndRestartedWithTheSameIdAnswersEveryRequestOnce() throws Exception {
        String prefix = "rit-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        Map<TopicPartition, Long> responsesFrom = fixture.endOffsets(Topics.RESPONSES);
        Map<TopicPartition, Long> attributionFrom = fixture.endOffsets(Topics.ATTRIBUTION);
        List<InferenceRequest> sent = requests(prefix, 0, 48);
        fixture.produceAll(sent);
        WorkerConfig config = fixture.workerConfig(prefix + "w", Map.of());

        Worker first = new Worker(config, engine);
        first.start();
        int before = awaitResponses(responsesFrom, prefix, 8, Duration.ofMinutes(2)).size();
        first.close();
        int afterFirst = awaitResponses(responsesFrom, prefix, 0, Duration.ZERO).size();
        try (Worker second = new Worker(config, engine)) {
            second.start();
            awaitResponses(responsesFrom, prefix, sent.size(), Duration.ofMinutes(3));
        }

        assertThat(before).as("the first worker was closed in the middle of the run").isBetween(8, sent.size() - 1);
        assertThat(afterFirst).as("the second worker had work left").isLessThan(sent.size());
        assertExactlyOnce(responsesFrom, attributionFrom, prefix, sent);
    }

    @Test
    void aNewInstanceWithTheSameWorkerIdFencesTheRunningOne() throws Exception {
        String prefix = "fit-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        Map<TopicPartition, Long> responsesFrom = fixture.endOffsets(Topics.RESPONSES);
        Map<TopicPartition, Long> attributionFrom = fixture.endOffsets(Topics.ATTRIBUTION);
        List<InferenceRequest> sent = new ArrayList<>(requests(prefix, 0, 16));
        fixture.produceAll(sent);
        WorkerConfig config = fixture.workerConfig(prefix + "w", Map.of());

        try (Worker zombie = new Worker(config, engine); Worker successor = new Worker(config, engine)) {
            zombie.start();
            awaitResponses(responsesFrom, prefix, 4, Duration.ofMinutes(2));
            successor.start();
            List<InferenceRequest> wave2 = requests(prefix, 100, 4 * PipelineFixture.PARTITIONS);
            for (int i = 0; i < wave2.size(); i++) fixture.produce(wave2.get(i), i % PipelineFixture.PARTITIONS);
            sent.addAll(wave2);

            assertThat(zombie.awaitStop(Duration.ofMinutes(2))).as("the fenced worker stops on its own").isTrue();
            // fenced by its transactional id (the producer) or, a static member, by its group instance id (the consumer):
            // whichever the zombie runs into first
            assertThat(zombie.failure()).hasValueSatisfying(t -> assertThat(t)
                    .isInstanceOfAny(ProducerFencedException.class, FencedInstanceIdException.class));
            awaitResponses(responsesFrom, prefix, sent.size(), Duration.ofMinutes(3));
            assertThat(successor.isRunning()).isTrue();
        }

        assertExactlyOnce(responsesFrom, attributionFrom, prefix, sent);
    }
}
