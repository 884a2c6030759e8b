package dev.lorastream.worker.internal;

import dev.lorastream.engine.sim.SimConfig;
import dev.lorastream.engine.sim.SimulatedEngine;
import dev.lorastream.worker.testing.Requests;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * lorastream_worker_engine_batches_total on an engine that batches continuously (requests handed
 * over one by one, run together pass by pass): it counts the engine's forward passes, where it used
 * to stay 0 however many requests were served.
 */
class ContinuousBatchesMetricTest {
    @Test
    void theBatchesOfAContinuousEngineAreItsForwardPasses() throws Exception {
        try (SimulatedEngine engine = new SimulatedEngine(SimConfig.h200(10, "z%04d").withMaxRows(4))) {
            SimPollLoop rig = new SimPollLoop(engine, 4);
            WorkerMetrics metrics = rig.metrics;
            PollLoop loop = rig.loop;
            for (long offset = 0; offset < 6; offset++) rig.add(Requests.request("req-" + offset, null, "prompt number " + offset).build());

            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (metrics.served() < 6 && System.nanoTime() < deadline) {
                loop.pollOnce();
                Thread.sleep(1);
            }

            assertThat(metrics.served()).isEqualTo(6);
            assertThat(loop.inFlight().continuous()).isTrue();
            long passes = engine.stats().passes();
            assertThat(passes).as("prefill and decode passes of 6 requests of 4 new tokens each").isGreaterThanOrEqualTo(4);
            assertThat(metrics.snapshot().get(WorkerMetrics.BATCHES)).isEqualTo(passes);
        }
    }
}
