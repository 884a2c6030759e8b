package dev.lorastream.worker.internal;

import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.registry.InMemorySchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.TopicDirectory;
import dev.lorastream.schemas.topic.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A worker's poll loop over an engine, with a mock consumer holding partition 0 of the routed topic and a mock producer. */
final class SimPollLoop {
    static final TopicPartition TP = new TopicPartition(Topics.ROUTED, 0);

    final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    final WorkerMetrics metrics = new WorkerMetrics();
    final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
    final MockProducer<String, SpecificRecord> producer = new MockProducer<>(true, null, new StringSerializer(), new AvroSerializer<>(registry, false));
    final PollLoop loop;
    private long nextOffset;

    SimPollLoop(InferenceEngine engine, int maxBatch) {
        Clock clock = Clock.systemUTC();
        BatchProcessor processor = new BatchProcessor(engine, new RequestDecoder(registry), new TaskFactory(engine, TopicDirectory.TRUSTING),
                new ResponseFactory("w", clock, TopicDirectory.TRUSTING), new AttributionFactory("w", engine, clock), new DeadLetters(clock),
                new GenerationRunner(engine, 1, new Backoff(Duration.ZERO, Duration.ZERO)), maxBatch, clock, metrics);
        loop = new PollLoop(consumer, () -> producer, processor, engine, metrics, Duration.ofMillis(1),
                new Backoff(Duration.ofMillis(1), Duration.ofMillis(2)));
        loop.init();
        consumer.rebalance(List.of(TP));
        consumer.updateBeginningOffsets(Map.of(TP, 0L));
    }

    /** Puts a request on the partition, as the router would. */
    void add(InferenceRequest r) {
        consumer.addRecord(new ConsumerRecord<>(Topics.ROUTED, 0, nextOffset++, r.getRequestId().getBytes(StandardCharsets.UTF_8),
                new AvroSerializer<InferenceRequest>(registry, false).serialize(Topics.ROUTED, r)));
    }
}
