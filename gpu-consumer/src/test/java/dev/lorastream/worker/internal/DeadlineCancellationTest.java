package dev.lorastream.worker.internal;

import dev.lorastream.engine.sim.SimConfig;
import dev.lorastream.engine.sim.SimulatedEngine;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.testing.Requests;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.junit.jupiter.api.Test;

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
    @Test
    void aDeadlineThatPassesMidGenerationStopsTheRequestAndIsCounted() throws Exception {
        // ~19 ms a decode step (time scale 10): 200 tokens take ~4 s, far past a 500 ms deadline
        try (SimulatedEngine engine = new SimulatedEngine(SimConfig.h200(10, "z%04d").withMaxRows(4).withTimeScale(10))) {
            SimPollLoop rig = new SimPollLoop(engine, 4);
            WorkerMetrics metrics = rig.metrics;
            PollLoop loop = rig.loop;
            MockProducer<String, SpecificRecord> producer = rig.producer;
            InferenceRequest late = Requests.request("late", null, "a long answer").setParams(Requests.params(200))
                    .setDeadlineMs(Instant.now().plusMillis(500)).build();
            InferenceRequest fine = Requests.request("fine", null, "a short answer").setParams(Requests.params(4)).build();
            rig.add(late);
            rig.add(fine);

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
            assertThat(producer.history()).as("no dead letter: nothing was wrong with the record").noneMatch(r -> r.topic().equals(Topics.DLQ));
            assertThat(metrics.snapshot().get(WorkerMetrics.CANCELLED)).isEqualTo(1L);
            assertThat(engine.stats().passes() - passesAtAnswer).as("passes after the answer: the engine dropped it").isLessThanOrEqualTo(1);
        }
    }

    private static List<InferenceResponse> responses(MockProducer<String, SpecificRecord> producer) {
        return producer.history().stream().filter(r -> r.topic().equals(Topics.RESPONSES) && r.value() instanceof InferenceResponse)
                .map(r -> (InferenceResponse) r.value()).toList();
    }
}
