package dev.lorastream.worker.internal;

import dev.lorastream.engine.sim.SimConfig;
import dev.lorastream.engine.sim.SimulatedEngine;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.TokenChunk;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.testing.Requests;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stop sequences: the engine ends the generation at the token that completes one, the response's
 * text ends before it (finish_reason stop), and a streamed request never streams it.
 */
class StopSequenceTest {
    private static final SimConfig SIM = SimConfig.h200(10, "z%04d").withMaxRows(4);

    @Test
    void theGenerationEndsAtTheStopSequenceWhichIsNotReturnedNorStreamed() throws Exception {
        String full = serve(Requests.request("r1", null, "tell me").setParams(Requests.params(24)).build(), null).getText();
        assertThat(full).hasSize(24);
        String stop = full.substring(5, 7);
        int at = full.indexOf(stop);

        MockProducer<String, SpecificRecord> streamed = new MockProducer<>(true, null, new StringSerializer(), (t, v) -> new byte[0]);
        var params = Requests.params(24);
        params.setStop(List.of(stop, "this never appears"));
        params.setStream(true);
        InferenceResponse r = serve(Requests.request("r1", null, "tell me").setParams(params).build(), streamed);

        assertThat(r.getFinishReason()).isEqualTo("stop");
        assertThat(r.getText()).isEqualTo(full.substring(0, at));
        assertThat(r.getCompletionTokens()).as("the engine stopped at the token completing it").isEqualTo(at + stop.length());
        Thread.sleep(300);
        String text = String.join("", streamed.history().stream().map(c -> ((TokenChunk) c.value()).getText().toString()).toList());
        assertThat(text).as("streamed text").isEqualTo(r.getText());
    }

    /** Serves one request on a fresh simulated engine (its tokens depend on the request id only); its response. */
    private static InferenceResponse serve(InferenceRequest request, MockProducer<String, SpecificRecord> stream) throws Exception {
        try (SimulatedEngine engine = new SimulatedEngine(SIM)) {
            SimPollLoop rig = new SimPollLoop(engine, 4);
            TokenStreams streams = stream == null ? null : new TokenStreams("w", engine::decode, stream, Clock.systemUTC());
            if (streams != null) rig.loop.inFlight().streamTo(streams);
            rig.add(request);
            long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            List<InferenceResponse> out = List.of();
            while (out.isEmpty() && System.nanoTime() < until) {
                rig.loop.pollOnce();
                Thread.sleep(1);
                out = rig.producer.history().stream().filter(x -> x.topic().equals(Topics.RESPONSES)).map(x -> (InferenceResponse) x.value()).toList();
            }
            if (streams != null) streams.close();
            assertThat(out).hasSize(1);
            return out.getFirst();
        }
    }
}
