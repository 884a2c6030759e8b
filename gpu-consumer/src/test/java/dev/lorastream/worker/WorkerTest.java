package dev.lorastream.worker;

import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.registry.InMemorySchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.internal.WorkerClients;
import dev.lorastream.worker.internal.WorkerState;
import dev.lorastream.worker.testing.FakeEngine;
import dev.lorastream.worker.testing.Requests;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The worker's life cycle against mock clients: start, serve, heartbeat, stop, and being fenced. */
class WorkerTest {
    private static final TopicPartition TP = new TopicPartition(Topics.ROUTED, 0);

    @TempDir Path dir;
    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
    private final MockProducer<String, SpecificRecord> output = producer();
    private final MockProducer<String, SpecificRecord> status = producer();
    private WorkerConfig config;

    @BeforeEach
    void config() throws Exception {
        config = WorkerConfig.from(Map.of(
                "bootstrap.servers", "unused:1", "schema.registry.url", "http://unused",
                "model.dir", Files.createDirectories(dir.resolve("m")).toString(),
                "adapter.dir", Files.createDirectories(dir.resolve("a")).toString(),
                "worker.id", "w-test", "poll.timeout.ms", "5", "heartbeat.interval.ms", "20"));
    }

    private MockProducer<String, SpecificRecord> producer() {
        return new MockProducer<>(true, null, new StringSerializer(), new AvroSerializer<>(registry, false));
    }

    private final WorkerClients clients = new WorkerClients() {
        @Override public SchemaRegistryClient registry() { return registry; }
        @Override public Consumer<byte[], byte[]> requestConsumer() { return consumer; }
        @Override public Producer<String, SpecificRecord> transactionalProducer() { return output; }
        @Override public Producer<String, SpecificRecord> statusProducer() { return status; }
    };

    private void assignOnFirstPoll() {
        consumer.schedulePollTask(() -> {
            consumer.rebalance(List.of(TP));
            consumer.updateBeginningOffsets(Map.of(TP, 0L));
        });
    }

    private void feed(long offset, String requestId) {
        InferenceRequest r = Requests.request(requestId, "cardiology", "chest pain").build();
        consumer.addRecord(new ConsumerRecord<>(Topics.ROUTED, 0, offset, "cardiology".getBytes(StandardCharsets.UTF_8),
                new AvroSerializer<InferenceRequest>(registry, false).serialize(Topics.ROUTED, r)));
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(5);
        }
    }

    private List<String> states() {
        return status.history().stream().map(r -> ((WorkerStatus) r.value()).getState()).toList();
    }

    @Test
    void aStartedWorkerServesHeartbeatsAndStopsCleanly() throws Exception {
        assignOnFirstPoll();
        FakeEngine engine = new FakeEngine();
        Worker worker = new Worker(config, engine, clients, Clock.systemUTC());

        worker.start();
        await(() -> !consumer.assignment().isEmpty(), "assignment");
        feed(0, "x-1");
        await(() -> output.commitCount() == 1, "a committed transaction");
        await(() -> states().contains("RUNNING"), "a RUNNING heartbeat");
        worker.close();

        assertThat(worker.state()).isEqualTo(WorkerState.STOPPING);
        assertThat(worker.isRunning()).isFalse();
        assertThat(output.history()).extracting(r -> r.topic()).containsExactly(Topics.RESPONSES, Topics.ATTRIBUTION);
        assertThat(states().getLast()).isEqualTo("STOPPING");
        assertThat(consumer.closed()).isTrue();
        assertThat(output.closed()).isTrue();
        assertThat(status.closed()).isTrue();
        assertThat(engine.closed()).as("the engine stays the caller's").isFalse();
    }

    @Test
    void aWorkerFencedByANewerInstanceStopsOnItsOwn() throws Exception {
        assignOnFirstPoll();
        Worker worker = new Worker(config, new FakeEngine(), clients, Clock.systemUTC());
        worker.start();
        await(() -> !consumer.assignment().isEmpty(), "assignment");

        output.fenceProducer();
        feed(0, "x-2");

        assertThat(worker.awaitStop(Duration.ofSeconds(10))).isTrue();
        assertThat(worker.failure()).containsInstanceOf(ProducerFencedException.class);
        assertThat(output.history()).isEmpty();
        worker.close();
    }

    @Test
    void aWorkerThatCannotInitialiseItsProducerFailsToStart() {
        output.initTransactionException = new org.apache.kafka.common.errors.TimeoutException("no broker");
        Worker worker = new Worker(config, new FakeEngine(), clients, Clock.systemUTC());

        assertThatThrownBy(worker::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("no broker");
        assertThat(consumer.closed()).isTrue();
    }
}
