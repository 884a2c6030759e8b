package dev.lorastream.worker.internal;

import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.registry.InMemorySchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.TopicDirectory;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.testing.FakeEngine;
import dev.lorastream.worker.testing.Requests;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The consume-process-produce loop against mock clients: one transaction per poll, abort and rewind, fencing. */
class PollLoopTest {
    private static final TopicPartition TP = new TopicPartition(Topics.ROUTED, 0);

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final FakeEngine engine = new FakeEngine();
    private final WorkerMetrics metrics = new WorkerMetrics();
    private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
    private final Deque<MockProducer<String, SpecificRecord>> producers = new ArrayDeque<>();
    private final List<MockProducer<String, SpecificRecord>> handedOut = new ArrayList<>();
    private PollLoop loop;

    @BeforeEach
    void setUp() {
        Clock clock = Clock.systemUTC();
        BatchProcessor processor = new BatchProcessor(engine, new RequestDecoder(registry), new TaskFactory(engine, TopicDirectory.TRUSTING),
                new ResponseFactory("w", clock, TopicDirectory.TRUSTING), new AttributionFactory("w", engine, clock), new DeadLetters(clock),
                new GenerationRunner(engine, 2, new Backoff(Duration.ZERO, Duration.ZERO)), 4, clock, metrics);
        loop = new PollLoop(consumer, this::nextProducer, processor, engine, metrics, Duration.ofMillis(10),
                new Backoff(Duration.ofMillis(1), Duration.ofMillis(2)));
    }

    private MockProducer<String, SpecificRecord> nextProducer() {
        MockProducer<String, SpecificRecord> p = producers.isEmpty() ? producer() : producers.poll();
        handedOut.add(p);
        return p;
    }

    private MockProducer<String, SpecificRecord> producer() {
        return new MockProducer<>(true, null, new StringSerializer(), new AvroSerializer<>(registry, false));
    }

    private void assignAndFeed(long firstOffset, int count) {
        consumer.rebalance(List.of(TP));
        consumer.updateBeginningOffsets(Map.of(TP, 0L));
        feed(firstOffset, count);
    }

    private void feed(long firstOffset, int count) {
        AvroSerializer<InferenceRequest> ser = new AvroSerializer<>(registry, false);
        for (int i = 0; i < count; i++) {
            long offset = firstOffset + i;
            InferenceRequest r = Requests.request("req-" + offset, "dermatology", "prompt " + offset).build();
            consumer.addRecord(new ConsumerRecord<>(Topics.ROUTED, 0, offset,
                    "dermatology".getBytes(StandardCharsets.UTF_8), ser.serialize(Topics.ROUTED, r)));
        }
    }

    private static List<String> responseIds(MockProducer<String, SpecificRecord> p) {
        return p.history().stream().filter(r -> r.topic().equals(Topics.RESPONSES))
                .map(r -> ((InferenceResponse) r.value()).getRequestId()).toList();
    }

    @Test
    void aPollIsAnsweredAndItsOffsetsCommittedInOneTransaction() {
        loop.init();
        assignAndFeed(0, 3);

        boolean goOn = loop.pollOnce();

        MockProducer<String, SpecificRecord> p = handedOut.getFirst();
        assertThat(goOn).isTrue();
        assertThat(p.transactionInitialized()).isTrue();
        assertThat(p.commitCount()).isEqualTo(1);
        assertThat(responseIds(p)).containsExactly("req-0", "req-1", "req-2");
        assertThat(p.history()).filteredOn(r -> r.topic().equals(Topics.ATTRIBUTION)).hasSize(3);
        assertThat(p.consumerGroupOffsetsHistory()).hasSize(1);
        assertThat(p.consumerGroupOffsetsHistory().getFirst().values().iterator().next())
                .containsEntry(TP, new OffsetAndMetadata(3L, java.util.Optional.empty(), ""));
        assertThat(metrics.commits()).isEqualTo(1);
        assertThat(metrics.served()).isEqualTo(3);
    }

    @Test
    void aFailedCommitIsAbortedRewoundAndRetriedWithoutDuplicates() {
        producers.add(new FailingCommitProducer(1));
        loop.init();
        assignAndFeed(0, 3);

        assertThat(loop.pollOnce()).isTrue();

        MockProducer<String, SpecificRecord> p = handedOut.getFirst();
        assertThat(p.transactionAborted()).isTrue();
        assertThat(p.history()).isEmpty();
        assertThat(consumer.position(TP)).isZero();
        assertThat(metrics.aborts()).isEqualTo(1);

        feed(0, 3); // the broker hands the same records out again from the rewound position
        assertThat(loop.pollOnce()).isTrue();

        assertThat(responseIds(p)).containsExactly("req-0", "req-1", "req-2");
        assertThat(p.consumerGroupOffsetsHistory()).hasSize(1);
        assertThat(handedOut).hasSize(1);
    }

    @Test
    void theRewindGoesToTheCommittedOffsetWhereThereIsOne() {
        producers.add(new FailingCommitProducer(1));
        loop.init();
        consumer.rebalance(List.of(TP));
        consumer.updateBeginningOffsets(Map.of(TP, 0L));
        consumer.commitSync(Map.of(TP, new OffsetAndMetadata(4L))); // offset 4 held a transaction marker
        feed(5, 2);

        loop.pollOnce();

        assertThat(consumer.position(TP)).isEqualTo(4L);
    }

    @Test
    void anUnusableProducerIsReplacedByAFreshOne() {
        FailingCommitProducer broken = new FailingCommitProducer(Integer.MAX_VALUE);
        broken.abortTransactionException = new KafkaException("producer in fatal state");
        producers.add(broken);
        loop.init();
        assignAndFeed(0, 2);

        loop.pollOnce();
        feed(0, 2);
        loop.pollOnce();

        assertThat(handedOut).hasSize(2);
        assertThat(broken.closed()).isTrue();
        assertThat(responseIds(handedOut.get(1))).containsExactly("req-0", "req-1");
    }

    @Test
    void aFencedProducerEndsTheLoopWithNothingCommitted() {
        loop.init();
        assignAndFeed(0, 2);
        handedOut.getFirst().fenceProducer();

        boolean goOn = loop.pollOnce();

        assertThat(goOn).isFalse();
        assertThat(loop.failure()).isInstanceOf(ProducerFencedException.class);
        assertThat(handedOut.getFirst().history()).isEmpty();
        assertThat(metrics.commits()).isZero();
    }

    @Test
    void aFencedConsumerEndsTheLoop() {
        // static membership: another worker with this worker id (group instance id) joined in this one's place
        loop.init();
        assignAndFeed(0, 2);
        consumer.setPollException(new FencedInstanceIdException("fenced by a newer instance of worker w"));

        boolean goOn = loop.pollOnce();

        assertThat(goOn).isFalse();
        assertThat(loop.failure()).isInstanceOf(FencedInstanceIdException.class);
        assertThat(metrics.commits()).isZero();
    }

    @Test
    void anEmptyPollCommitsNothing() {
        loop.init();
        consumer.rebalance(List.of(TP));
        consumer.updateBeginningOffsets(Map.of(TP, 0L));

        assertThat(loop.pollOnce()).isTrue();

        assertThat(handedOut.getFirst().commitCount()).isZero();
        assertThat(metrics.residentAdapters()).containsExactly("cardiology", "dermatology");
    }

    @Test
    void stoppingEndsTheLoopAndClosesTheClients() {
        loop.init();
        loop.stop();

        loop.run();

        assertThat(consumer.closed()).isTrue();
        assertThat(handedOut.getFirst().closed()).isTrue();
    }

    @Test
    void aResponseTooLargeToSendIsAnsweredTooLargeAndTheRestOfTheBatchIsServed() {
        producers.add(new RefusingProducer(r -> r.value() instanceof InferenceResponse resp && "req-1".equals(resp.getRequestId())
                && resp.getError() == null, () -> new RecordTooLargeException("simulated: the message is 1048715 bytes")));
        loop.init();
        assignAndFeed(0, 3);

        assertThat(loop.pollOnce()).isTrue();

        MockProducer<String, SpecificRecord> p = handedOut.getFirst();
        assertThat(p.commitCount()).isEqualTo(1);
        assertThat(responseIds(p)).containsExactly("req-0", "req-1", "req-2");
        InferenceResponse refused = responses(p).get(1);
        assertThat(refused.getError().getCode()).isEqualTo("TOO_LARGE");
        assertThat(refused.getError().getMessage()).contains("response", "RecordTooLargeException");
        assertThat(p.history()).filteredOn(r -> r.topic().equals(Topics.ATTRIBUTION)).hasSize(2); // the refused one is not billed
        assertThat(p.history()).filteredOn(r -> r.topic().equals(Topics.DLQ))
                .extracting(r -> ((DeadLetter) r.value()).getRequestId()).containsExactly("req-1");
        assertThat(p.consumerGroupOffsetsHistory().getLast().values().iterator().next())
                .containsEntry(TP, new OffsetAndMetadata(3L, java.util.Optional.empty(), ""));
        assertThat(metrics.unpublishableCount()).isEqualTo(1);
        assertThat(metrics.aborts()).isEqualTo(1);
        assertThat(handedOut).hasSize(1); // the abort left the producer usable
    }

    @Test
    void aRecordOfWhichNothingCanBePublishedIsCommittedPastNotRetriedForever() {
        producers.add(new RefusingProducer(r -> "req-1".equals(r.key()),
                () -> new RecordTooLargeException("simulated: every record of req-1 is refused")));
        loop.init();
        assignAndFeed(0, 3);

        assertThat(loop.pollOnce()).isTrue();

        MockProducer<String, SpecificRecord> p = handedOut.getFirst();
        assertThat(p.commitCount()).isEqualTo(1);
        assertThat(responseIds(p)).containsExactly("req-0", "req-2");
        assertThat(p.consumerGroupOffsetsHistory().getLast().values().iterator().next())
                .containsEntry(TP, new OffsetAndMetadata(3L, java.util.Optional.empty(), ""));
        assertThat(metrics.unpublishableCount()).isEqualTo(3); // error answer + dead letter, dead letter, nothing
        assertThat(metrics.droppedCount()).isEqualTo(1);
    }

    @Test
    void aRecordThatCannotBeSerializedForItsTopicIsAnsweredInternal() {
        producers.add(new RefusingProducer(r -> r.topic().equals(Topics.ATTRIBUTION) && "dermatology".equals(r.key()) && !refusedOnce(),
                () -> new SerializationException("simulated: the registry refused the schema")));
        loop.init();
        assignAndFeed(0, 2);

        loop.pollOnce();

        MockProducer<String, SpecificRecord> p = handedOut.getFirst();
        assertThat(responses(p)).extracting(r -> r.getError() == null ? "ok" : r.getError().getCode()).containsExactly("INTERNAL", "ok");
        assertThat(p.history()).filteredOn(r -> r.topic().equals(Topics.ATTRIBUTION)).hasSize(1);
    }

    @Test
    void aPassingSendFailureIsNotTakenForTheRecordsFault() {
        producers.add(new RefusingProducer(r -> !refusedOnce(), () -> new org.apache.kafka.common.errors.NotEnoughReplicasException("simulated")));
        loop.init();
        assignAndFeed(0, 2);

        loop.pollOnce();

        assertThat(metrics.unpublishableCount()).isZero();
        assertThat(consumer.position(TP)).isZero(); // rewound: read again and served whole
        feed(0, 2);
        loop.pollOnce();
        assertThat(responses(handedOut.getFirst())).extracting(InferenceResponse::getRequestId).containsExactly("req-0", "req-1");
        assertThat(responses(handedOut.getFirst())).extracting(InferenceResponse::getError).containsOnlyNulls();
    }

    private boolean refused;

    /** True from the second call on: the predicate refuses one record only. */
    private boolean refusedOnce() {
        boolean was = refused;
        refused = true;
        return was;
    }

    private static List<InferenceResponse> responses(MockProducer<String, SpecificRecord> p) {
        return p.history().stream().filter(r -> r.topic().equals(Topics.RESPONSES)).map(r -> (InferenceResponse) r.value()).toList();
    }

    /**
     * A mock producer that refuses the records {@code refuse} matches as Kafka's producer does: the
     * send fails with the failure, and until the transaction is aborted every later send and
     * transactional call fails with it as the cause.
     */
    private final class RefusingProducer extends MockProducer<String, SpecificRecord> {
        private final java.util.function.Predicate<org.apache.kafka.clients.producer.ProducerRecord<String, SpecificRecord>> refuse;
        private final java.util.function.Supplier<RuntimeException> failure;
        private RuntimeException error;

        RefusingProducer(java.util.function.Predicate<org.apache.kafka.clients.producer.ProducerRecord<String, SpecificRecord>> refuse,
                         java.util.function.Supplier<RuntimeException> failure) {
            super(true, null, new StringSerializer(), new AvroSerializer<>(registry, false));
            this.refuse = refuse;
            this.failure = failure;
        }

        @Override
        public synchronized java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata> send(
                org.apache.kafka.clients.producer.ProducerRecord<String, SpecificRecord> record, org.apache.kafka.clients.producer.Callback callback) {
            if (error != null) throw new KafkaException("Cannot perform send because at least one previous transactional or idempotent request has failed with errors.", error);
            if (refuse.test(record)) {
                RuntimeException e = failure.get();
                if (e instanceof SerializationException) throw e; // thrown by the serializer, in send
                error = e;
                callback.onCompletion(null, (Exception) e);
                return java.util.concurrent.CompletableFuture.failedFuture(e);
            }
            return super.send(record, callback);
        }

        @Override
        public synchronized void sendOffsetsToTransaction(Map<TopicPartition, OffsetAndMetadata> offsets,
                                                          org.apache.kafka.clients.consumer.ConsumerGroupMetadata group) {
            if (error != null) throw new KafkaException("Cannot execute transactional method because we are in an error state", error);
            super.sendOffsetsToTransaction(offsets, group);
        }

        @Override
        public synchronized void abortTransaction() {
            error = null;
            super.abortTransaction();
        }
    }

    /** A mock producer whose first {@code failures} commits fail with a retriable-looking error. */
    private final class FailingCommitProducer extends MockProducer<String, SpecificRecord> {
        private int failures;

        FailingCommitProducer(int failures) {
            super(true, null, new StringSerializer(), new AvroSerializer<>(registry, false));
            this.failures = failures;
        }

        @Override
        public void commitTransaction() {
            if (failures > 0) {
                failures--;
                throw new KafkaException("simulated: coordinator went away");
            }
            super.commitTransaction();
        }
    }

}
