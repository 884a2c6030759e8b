package dev.lorastream.worker.internal;

import dev.lorastream.engine.sim.SimConfig;
import dev.lorastream.engine.sim.SimulatedEngine;
import dev.lorastream.schemas.InferenceRequest;
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
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * lorastream_worker_engine_batches_total on an engine that batches continuously (requests handed
 * over one by one, run together pass by pass): it counts the engine's forward passes, where it used
 * to stay 0 however many requests were served.
 */
class ContinuousBatchesMetricTest {
    private static final TopicPartition TP = new TopicPartition(Topics.ROUTED, 0);

    @Test
    void theBatchesOfAContinuousEngineAreItsForwardPasses() throws Exception {
        InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        WorkerMetrics metrics = new WorkerMetrics();
        MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
        MockProducer<String, SpecificRecord> producer = new MockProducer<>(true, null, new StringSerializer(), new AvroSerializer<>(registry, false));
        try (SimulatedEngine engine = new SimulatedEngine(SimConfig.h200(10, "z%04d").withMaxRows(4))) {
            Clock clock = Clock.systemUTC();
            BatchProcessor processor = new BatchProcessor(engine, new RequestDecoder(registry), new TaskFactory(engine, TopicDirectory.TRUSTING),
                    new ResponseFactory("w", clock, TopicDirectory.TRUSTING), new AttributionFactory("w", engine, clock), new DeadLetters(clock),
                    new GenerationRunner(engine, 1, new Backoff(Duration.ZERO, Duration.ZERO)), 4, clock, metrics);
            PollLoop loop = new PollLoop(consumer, () -> producer, processor, engine, metrics, Duration.ofMillis(1),
                    new Backoff(Duration.ofMillis(1), Duration.ofMillis(2)));
            loop.init();
            consumer.rebalance(List.of(TP));
            consumer.updateBeginningOffsets(Map.of(TP, 0L));
            for (long offset = 0; offset < 6; offset++) {
                InferenceRequest r = Requests.request("req-" + offset, null, "prompt number " + offset).build();
                consumer.addRecord(new ConsumerRecord<>(Topics.ROUTED, 0, offset, "k".getBytes(StandardCharsets.UTF_8),
                        new AvroSerializer<InferenceRequest>(registry, false).serialize(Topics.ROUTED, r)));
            }

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
