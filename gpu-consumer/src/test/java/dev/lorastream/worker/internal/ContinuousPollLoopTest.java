package dev.lorastream.worker.internal;

import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.registry.InMemorySchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.TopicDirectory;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.testing.ManualEngine;
import dev.lorastream.worker.testing.Requests;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The poll loop on an engine with its own submit (a continuous batcher): requests handed over as
 * they arrive, commits of contiguous finished prefixes, revoked work abandoned, per-request retries.
 */
class ContinuousPollLoopTest {
    private static final TopicPartition TP = new TopicPartition(Topics.ROUTED, 0);
    private static final int MAX_BATCH = 4;
    private static final int ATTEMPTS = 2;

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final ManualEngine engine = new ManualEngine();
    private final WorkerMetrics metrics = new WorkerMetrics();
    private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
    private final MockProducer<String, SpecificRecord> producer =
            new MockProducer<>(true, null, new StringSerializer(), new AvroSerializer<>(registry, false));
    private PollLoop loop;

    private BatchProcessor processor() {
        Clock clock = Clock.systemUTC();
        return new BatchProcessor(engine, new RequestDecoder(registry), new TaskFactory(engine, TopicDirectory.TRUSTING),
                new ResponseFactory("w", clock, TopicDirectory.TRUSTING), new AttributionFactory("w", engine, clock), new DeadLetters(clock),
                new GenerationRunner(engine, ATTEMPTS, new Backoff(Duration.ZERO, Duration.ZERO)), MAX_BATCH, clock, metrics);
    }

    @BeforeEach
    void setUp() {
        loop = new PollLoop(consumer, () -> producer, processor(), engine, metrics, Duration.ofMillis(1),
                new Backoff(Duration.ofMillis(1), Duration.ofMillis(2)));
        loop.init();
        consumer.rebalance(List.of(TP));
        consumer.updateBeginningOffsets(Map.of(TP, 0L));
    }

    private void feed(long offset, String adapter) {
        InferenceRequest r = Requests.request("req-" + offset, adapter, "prompt " + offset).build();
        consumer.addRecord(new ConsumerRecord<>(Topics.ROUTED, 0, offset, "k".getBytes(StandardCharsets.UTF_8),
                new AvroSerializer<InferenceRequest>(registry, false).serialize(Topics.ROUTED, r)));
    }

    private void feed(long from, int count) {
        for (long o = from; o < from + count; o++) feed(o, "dermatology");
    }

    private List<String> responseIds() {
        return producer.history().stream().filter(r -> r.topic().equals(Topics.RESPONSES))
                .map(r -> ((InferenceResponse) r.value()).getRequestId()).toList();
    }

    private List<Long> committedOffsets() {
        return producer.consumerGroupOffsetsHistory().stream()
                .map(byGroup -> byGroup.values().iterator().next().get(TP).offset()).toList();
    }

    @Test
    void offsetsAreCommittedUpToTheContiguousFinishedPrefixWhateverOrderRequestsFinishIn() {
        feed(0, "dermatology");
        feed(1, "radiology"); // unknown adapter: refused on arrival, finished at once
        feed(2, "dermatology");
        feed(3, "cardiology");

        loop.pollOnce();
        assertThat(engine.submitted()).containsExactly("req-0", "req-2", "req-3");
        assertThat(producer.commitCount()).isZero();

        engine.complete("req-2");
        loop.pollOnce();
        assertThat(producer.commitCount()).as("req-0 still runs: nothing after it may be committed or published").isZero();
        assertThat(producer.history()).isEmpty();

        engine.complete("req-0");
        loop.pollOnce();
        assertThat(producer.commitCount()).isEqualTo(1);
        assertThat(committedOffsets()).containsExactly(3L);
        assertThat(responseIds()).containsExactly("req-0", "req-1", "req-2");
        assertThat(producer.history()).filteredOn(r -> r.topic().equals(Topics.DLQ))
                .extracting(r -> ((DeadLetter) r.value()).getRequestId()).containsExactly("req-1");
        assertThat(producer.history()).filteredOn(r -> r.topic().equals(Topics.ATTRIBUTION)).hasSize(2);

        engine.complete("req-3");
        loop.pollOnce();
        assertThat(producer.commitCount()).isEqualTo(2);
        assertThat(committedOffsets()).containsExactly(3L, 4L);
        assertThat(responseIds()).containsExactly("req-0", "req-1", "req-2", "req-3");
        assertThat(producer.consumerGroupOffsetsHistory().getLast().values().iterator().next())
                .containsEntry(TP, new OffsetAndMetadata(4L, Optional.empty(), ""));
        assertThat(engine.batchSizes()).as("generate is never called").isEmpty();
        assertThat(metrics.served()).isEqualTo(3);
    }

    @Test
    void whileRequestsAreOnTheEngineThePollIsShortSoAFinishedOneIsPublishedWithinMilliseconds() {
        MockConsumer<byte[], byte[]> slowConsumer = new MockConsumer<>("earliest");
        MockProducer<String, SpecificRecord> slowProducer = new MockProducer<>(true, null, new StringSerializer(), new AvroSerializer<>(registry, false));
        PollLoop slow = new PollLoop(slowConsumer, () -> slowProducer, processor(), engine, metrics, Duration.ofMillis(500),
                new Backoff(Duration.ofMillis(1), Duration.ofMillis(2)));
        assertThat(slow.nextPollTimeout()).as("idle: the configured timeout").isEqualTo(Duration.ofMillis(500));

        slow.init();
        slowConsumer.rebalance(List.of(TP));
        slowConsumer.updateBeginningOffsets(Map.of(TP, 0L));
        InferenceRequest r = Requests.request("req-0", "dermatology", "prompt").build();
        slowConsumer.addRecord(new ConsumerRecord<>(Topics.ROUTED, 0, 0L, "k".getBytes(StandardCharsets.UTF_8),
                new AvroSerializer<InferenceRequest>(registry, false).serialize(Topics.ROUTED, r)));
        slow.pollOnce();
        assertThat(engine.submitted()).containsExactly("req-0");
        assertThat(slow.nextPollTimeout()).as("decoding").isEqualTo(PollLoop.BUSY_POLL);

        engine.complete("req-0");
        assertThat(slow.nextPollTimeout()).as("finished, waiting to be published").isZero();
        slow.pollOnce();
        assertThat(slowProducer.history()).filteredOn(x -> x.topic().equals(Topics.RESPONSES))
                .extracting(x -> ((InferenceResponse) x.value()).getRequestId()).containsExactly("req-0");
        assertThat(slow.nextPollTimeout()).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void aRequestArrivingWhileOthersDecodeIsSubmittedWithoutWaitingForThem() {
        feed(0, 2);
        loop.pollOnce();
        assertThat(engine.submitted()).containsExactly("req-0", "req-1");

        feed(2, 1);
        loop.pollOnce();

        assertThat(engine.future("req-0")).isNotDone();
        assertThat(engine.future("req-1")).isNotDone();
        assertThat(engine.submitted()).containsExactly("req-0", "req-1", "req-2");

        engine.complete("req-2");
        engine.complete("req-0");
        loop.pollOnce();
        assertThat(committedOffsets()).containsExactly(1L);
        assertThat(responseIds()).containsExactly("req-0");

        engine.complete("req-1");
        loop.pollOnce();
        assertThat(committedOffsets()).containsExactly(1L, 3L);
        assertThat(responseIds()).containsExactly("req-0", "req-1", "req-2");
    }

    @Test
    void revokedPartitionsWorkInFlightIsNeverPublishedAndTheNewAssignmentServesItOnce() {
        feed(0, 2);
        loop.pollOnce();
        engine.complete("req-1"); // finished, but behind req-0: held back

        consumer.rebalance(List.of());
        assertThat(loop.assignment().partitions()).isEmpty();
        assertThat(engine.future("req-0")).isCancelled();
        loop.pollOnce();
        loop.pollOnce();

        assertThat(producer.history()).isEmpty();
        assertThat(producer.commitCount()).isZero();
        assertThat(loop.inFlight().held()).isZero();
        assertThat(metrics.running()).isZero();

        // the partition comes back (to this worker, as it could to another): re-read from the committed offset
        consumer.rebalance(List.of(TP));
        consumer.updateBeginningOffsets(Map.of(TP, 0L));
        feed(0, 2);
        loop.pollOnce();
        engine.complete("req-0");
        engine.complete("req-1");
        loop.pollOnce();

        assertThat(responseIds()).containsExactly("req-0", "req-1");
        assertThat(producer.history()).filteredOn(r -> r.topic().equals(Topics.ATTRIBUTION)).hasSize(2);
        assertThat(committedOffsets()).containsExactly(2L);
    }

    @Test
    void aFailedRowIsResubmittedAndAnsweredInternalOnceOutOfAttempts() {
        feed(0, 2);
        loop.pollOnce();

        engine.fail("req-0");
        engine.fail("req-1");
        loop.pollOnce();
        assertThat(engine.submitted()).containsExactly("req-0", "req-1", "req-0", "req-1");
        assertThat(producer.commitCount()).isZero();

        engine.complete("req-0");
        engine.fail("req-1");
        loop.pollOnce();

        List<InferenceResponse> responses = producer.history().stream().filter(r -> r.topic().equals(Topics.RESPONSES))
                .map(r -> (InferenceResponse) r.value()).toList();
        assertThat(responses).extracting(InferenceResponse::getRequestId).containsExactly("req-0", "req-1");
        assertThat(responses.get(0).getStatus()).isEqualTo(ResponseStatus.OK);
        assertThat(responses.get(1).getStatus()).isEqualTo(ResponseStatus.ERROR);
        assertThat(responses.get(1).getError().getCode()).isEqualTo("INTERNAL");
        assertThat(producer.history()).filteredOn(r -> r.topic().equals(Topics.DLQ)).hasSize(1);
        assertThat(engine.submitted()).hasSize(2 * ATTEMPTS);
        assertThat(committedOffsets()).containsExactly(2L);
    }

    @Test
    void partitionsArePausedWhileTooManyRequestsAreInFlight() {
        feed(0, 2 * MAX_BATCH);
        loop.pollOnce();
        assertThat(consumer.paused()).containsExactly(TP);

        feed(2 * MAX_BATCH, 1);
        loop.pollOnce();
        assertThat(engine.submitted()).hasSize(2 * MAX_BATCH);

        engine.complete("req-0");
        loop.pollOnce();
        assertThat(consumer.paused()).isEmpty();
        assertThat(committedOffsets()).containsExactly(1L);
        loop.pollOnce();
        assertThat(engine.submitted()).hasSize(2 * MAX_BATCH + 1);
    }
}
