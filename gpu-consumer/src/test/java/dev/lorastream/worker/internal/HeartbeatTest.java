package dev.lorastream.worker.internal;

import dev.lorastream.engine.EngineLoad;
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
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class HeartbeatTest {
    private final MockProducer<String, SpecificRecord> producer =
            new MockProducer<>(true, null, new StringSerializer(), new AvroSerializer<>(new InMemorySchemaRegistryClient(), false));
    private final AtomicReference<WorkerState> state = new AtomicReference<>(WorkerState.STARTING);
    private final AssignmentTracker assignment = new AssignmentTracker(() -> { });
    private final WorkerMetrics metrics = new WorkerMetrics();
    private final AtomicReference<EngineLoad> load = new AtomicReference<>(load(List.of(), 0, 0));
    private final StatusFactory status = new StatusFactory("w-5", "CPU", "tiny-llama", state::get, assignment, metrics, load::get,
            Duration.ofSeconds(1), Clock.systemUTC());

    private static EngineLoad load(List<String> device, int running, long generated) {
        return new EngineLoad(1000, 600, 8, device.size(), 4, running, 1, 256, 40, generated, new TreeSet<>(device),
                new TreeSet<>(List.of("cardiology", "dermatology")), false);
    }

    private WorkerStatus last() { return (WorkerStatus) producer.history().getLast().value(); }

    @Test
    void aHeartbeatReportsPartitionsLoadMemoryAdaptersAndStateKeyedByWorkerId() {
        Heartbeat heartbeat = new Heartbeat("w-5", Duration.ofMinutes(1), producer, status::status);
        assignment.onPartitionsAssigned(List.of(new TopicPartition(Topics.ROUTED, 2), new TopicPartition(Topics.ROUTED, 0)));
        metrics.load(3, 5);
        metrics.residentAdapters(List.of("cardiology", "dermatology"));
        load.set(load(List.of("cardiology"), 3, 100));
        state.set(WorkerState.RUNNING);

        heartbeat.beat();

        assertThat(producer.history()).hasSize(1);
        assertThat(producer.history().getFirst().topic()).isEqualTo(Topics.WORKER_STATUS);
        assertThat(producer.history().getFirst().key()).isEqualTo("w-5");
        WorkerStatus s = last();
        assertThat(s.getWorkerId()).isEqualTo("w-5");
        assertThat(s.getState()).isEqualTo("RUNNING");
        assertThat(s.getAssignedPartitions()).containsExactly(0, 2);
        assertThat(s.getRunningRequests()).as("the engine's rows").isEqualTo(3);
        assertThat(s.getWaitingRequests()).as("consumed, not in a row").isEqualTo(5);
        assertThat(s.getDeviceMemoryTotalBytes()).isEqualTo(1000);
        assertThat(s.getDeviceMemoryFreeBytes()).isEqualTo(600);
        assertThat(s.getBankSlots()).isEqualTo(8);
        assertThat(s.getBankSlotsUsed()).isEqualTo(1);
        assertThat(s.getMaxRows()).isEqualTo(4);
        assertThat(s.getKvTokensCapacity()).isEqualTo(256);
        assertThat(s.getKvTokensUsed()).isEqualTo(40);
        assertThat(s.getDeviceAdapters()).containsExactly("cardiology");
        assertThat(s.getHostAdapters()).containsExactly("cardiology", "dermatology");
        assertThat(s.getHeartbeatIntervalMs()).isEqualTo(1000);
        assertThat(s.getSimulated()).isFalse();
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

    @Test
    void aChangeOfWhatPlacementReadsIsSentAtOnceWhileLoadFiguresWaitForTheInterval() throws Exception {
        Heartbeat heartbeat = new Heartbeat("w-5", Duration.ofMinutes(1), producer, status::status);
        heartbeat.tick();
        assertThat(producer.history()).hasSize(1);
        load.set(load(List.of(), 0, 500)); // only the token count: no heartbeat before the interval
        heartbeat.tick();
        assertThat(producer.history()).hasSize(1);
        load.set(load(List.of("dermatology"), 0, 600)); // an adapter entered a device slot
        heartbeat.tick();
        assertThat(producer.history()).hasSize(2);
        assertThat(last().getDeviceAdapters()).containsExactly("dermatology");
        assignment.onPartitionsAssigned(List.of(new TopicPartition(Topics.ROUTED, 4)));
        heartbeat.tick();
        assertThat(producer.history()).hasSize(3);
        assertThat(last().getAssignedPartitions()).containsExactly(4);
        load.set(load(List.of("dermatology"), 3, 700)); // 4 of 4 rows: the load's quarter-row step changed
        heartbeat.tick();
        assertThat(producer.history()).hasSize(4);
        assertThat(last().getRunningRequests()).isEqualTo(3);
    }

    @Test
    void theDecodeRateIsTheGeneratedTokensOverTheTimeSinceThePreviousStatus() throws Exception {
        load.set(load(List.of(), 1, 1_000));
        status.status();
        Thread.sleep(200);
        load.set(load(List.of(), 1, 1_400));
        double rate = status.status().getDecodeTokensPerS();
        assertThat(rate).isBetween(400 / 0.5, 400 / 0.19);
    }
}
