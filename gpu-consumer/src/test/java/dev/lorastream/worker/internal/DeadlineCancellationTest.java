package dev.lorastream.worker.internal;

import dev.lorastream.engine.sim.SimConfig;
import dev.lorastream.engine.sim.SimulatedEngine;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.registry.InMemorySchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.TopicDirectory;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.testing.Requests;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A request whose deadline passes while the engine generates it is stopped (the engine drops it at
 * its next step), answered DEADLINE_EXCEEDED naming deadline_ms, and counted; a request with room
 * left is served in full beside it.
 */
class DeadlineCancellationTest {
    private static final TopicPartition TP = new TopicPartition(Topics.ROUTED, 0);

    @Test
    void aDeadlineThatPassesMidGenerationStopsTheRequestAndIsCounted() throws Exception {
        InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        WorkerMetrics metrics = new WorkerMetrics();
        MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
        MockProducer<String, SpecificRecord> producer = new MockProducer<>(true, null, new StringSerializer(), new AvroSerializer<>(registry, false));
        // ~19 ms a decode step (time scale 10): 200 tokens take ~4 s, far past a 500 ms deadline
        try (SimulatedEngine engine = new SimulatedEngine(SimConfig.h200(10, "z%04d").withMaxRows(4).withTimeScale(10))) {
            Clock clock = Clock.systemUTC();
            BatchProcessor processor = new BatchProcessor(engine, new RequestDecoder(registry), new TaskFactory(engine, TopicDirectory.TRUSTING),
                    new ResponseFactory("w", clock, TopicDirectory.TRUSTING), new AttributionFactory("w", engine, clock), new DeadLetters(clock),
                    new GenerationRunner(engine, 1, new Backoff(Duration.ZERO, Duration.ZERO)), 4, clock, metrics);
            PollLoop loop = new PollLoop(consumer, () -> producer, processor, engine, metrics, Duration.ofMillis(1),
                    new Backoff(Duration.ofMillis(1), Duration.ofMillis(2)));
            loop.init();
            consumer.rebalance(List.of(TP));
            consumer.updateBeginningOffsets(Map.of(TP, 0L));
            InferenceRequest late = Requests.request("late", null, "a long answer").setParams(Requests.params(200))
                    .setDeadlineMs(Instant.now().plusMillis(500)).build();
            InferenceRequest fine = Requests.request("fine", null, "a short answer").setParams(Requests.params(4)).build();
            long offset = 0;
            for (InferenceRequest r : List.of(late, fine)) {
                consumer.addRecord(new ConsumerRecord<>(Topics.ROUTED, 0, offset++, r.getRequestId().getBytes(StandardCharsets.UTF_8),
                        new AvroSerializer<InferenceRequest>(registry, false).serialize(Topics.ROUTED, r)));
            }

            long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (responses(producer).size() < 2 && System.nanoTime() < until) {
                loop.pollOnce();
                Thread.sleep(1);
            }
            long passesAtAnswer = engine.stats().passes();
            Thread.sleep(300);

            Map<String, InferenceResponse> byId = new java.util.HashMap<>();
            for (InferenceResponse r : responses(producer)) byId.put(r.getRequestId(), r);
            assertThat(byId).containsKeys("late", "fine");
            assertThat(byId.get("fine").getStatus()).isEqualTo(ResponseStatus.OK);
            assertThat(byId.get("fine").getCompletionTokens()).isEqualTo(4);
            InferenceResponse cancelled = byId.get("late");
            assertThat(cancelled.getStatus()).isEqualTo(ResponseStatus.ERROR);
            assertThat(cancelled.getError().getCode()).isEqualTo(ErrorCode.DEADLINE_EXCEEDED.name());
            assertThat(cancelled.getError().getField()).isEqualTo("deadline_ms");
            assertThat(cancelled.getError().getMessage()).contains("during generation");
            assertThat(metrics.cancelledCount()).isEqualTo(1);
            assertThat(metrics.snapshot().get(WorkerMetrics.CANCELLED)).isEqualTo(1L);
            assertThat(engine.stats().passes() - passesAtAnswer).as("passes after the answer: the engine dropped it").isLessThanOrEqualTo(1);
        }
    }

    private static List<InferenceResponse> responses(MockProducer<String, SpecificRecord> producer) {
        return producer.history().stream().filter(r -> r.topic().equals(Topics.RESPONSES) && r.value() instanceof InferenceResponse)
                .map(r -> (InferenceResponse) r.value()).toList();
    }
}
