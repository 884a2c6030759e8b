package dev.lorastream.worker.internal;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class AssignmentTrackerTest {
    private final AtomicInteger aborts = new AtomicInteger();
    private final AssignmentTracker tracker = new AssignmentTracker(aborts::incrementAndGet);

    @Test
    void assignedPartitionsAreReportedSorted() {
        tracker.onPartitionsAssigned(List.of(new TopicPartition("t", 3), new TopicPartition("t", 1)));

        assertThat(tracker.partitions()).containsExactly(1, 3);
        assertThat(aborts).hasValue(0);
    }

    @Test
    void revokingAbortsWorkInProgressBeforeLettingGo() {
        tracker.onPartitionsAssigned(List.of(new TopicPartition("t", 0), new TopicPartition("t", 1)));

        tracker.onPartitionsRevoked(List.of(new TopicPartition("t", 0)));

        assertThat(aborts).hasValue(1);
        assertThat(tracker.partitions()).containsExactly(1);
    }

    @Test
    void losingPartitionsAbortsToo() {
        tracker.onPartitionsAssigned(List.of(new TopicPartition("t", 2)));

        tracker.onPartitionsLost(List.of(new TopicPartition("t", 2)));

        assertThat(aborts).hasValue(1);
        assertThat(tracker.partitions()).isEmpty();
    }
}
