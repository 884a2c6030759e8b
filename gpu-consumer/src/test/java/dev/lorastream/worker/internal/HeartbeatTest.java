package dev.lorastream.worker.internal;

import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.registry.InMemorySchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class HeartbeatTest {
    private final MockProducer<String, SpecificRecord> producer =
            new MockProducer<>(true, null, new StringSerializer(), new AvroSerializer<>(new InMemorySchemaRegistryClient(), false));
    private final AtomicReference<WorkerState> state = new AtomicReference<>(WorkerState.STARTING);
    private final AssignmentTracker assignment = new AssignmentTracker(() -> { });
    private final WorkerMetrics metrics = new WorkerMetrics();
    private final StatusFactory status = new StatusFactory("w-5", "CPU", "tiny-llama", state::get, assignment, metrics, Clock.systemUTC());

    private WorkerStatus last() { return (WorkerStatus) producer.history().getLast().value(); }

    @Test
    void aHeartbeatReportsPartitionsLoadMemoryAdaptersAndStateKeyedByWorkerId() {
        Heartbeat heartbeat = new Heartbeat("w-5", Duration.ofMinutes(1), producer, status::status);
        assignment.onPartitionsAssigned(List.of(new TopicPartition(Topics.ROUTED, 2), new TopicPartition(Topics.ROUTED, 0)));
        metrics.load(3, 5);
        metrics.residentAdapters(List.of("cardiology", "dermatology"));
        state.set(WorkerState.RUNNING);

        heartbeat.beat();

        assertThat(producer.history()).hasSize(1);
        assertThat(producer.history().getFirst().topic()).isEqualTo(Topics.WORKER_STATUS);
        assertThat(producer.history().getFirst().key()).isEqualTo("w-5");
        WorkerStatus s = last();
        assertThat(s.getWorkerId()).isEqualTo("w-5");
        assertThat(s.getState()).isEqualTo("RUNNING");
        assertThat(s.getAssignedPartitions()).containsExactly(0, 2);
        assertThat(s.getRunningRequests()).isEqualTo(3);
        assertThat(s.getWaitingRequests()).isEqualTo(5);
        assertThat(s.getFreeMemoryBytes()).isPositive();
        assertThat(s.getResidentAdapters()).containsExactly("cardiology", "dermatology");
        assertThat(s.getExecutionProvider()).isEqualTo("CPU");
        assertThat(s.getBaseModel()).isEqualTo("tiny-llama");
    }

    @Test
    void heartbeatsRepeatEveryIntervalAndTheLastOneSaysStopping() throws Exception {
        Heartbeat heartbeat = new Heartbeat("w-5", Duration.ofMillis(20), producer, status::status);

        heartbeat.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (producer.history().size() < 3 && System.nanoTime() < deadline) Thread.sleep(5);
        state.set(WorkerState.STOPPING);
        heartbeat.close();

        assertThat(producer.history().size()).isGreaterThanOrEqualTo(4);
        assertThat(((WorkerStatus) producer.history().getFirst().value()).getState()).isEqualTo("STARTING");
        assertThat(last().getState()).isEqualTo("STOPPING");
        assertThat(producer.closed()).isTrue();
    }
}
