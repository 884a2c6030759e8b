package dev.lorastream.schemas.ops;

import dev.lorastream.schemas.ops.TransactionWatchdog.OpenKey;
import dev.lorastream.schemas.ops.TransactionWatchdog.Overdue;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The watchdog's decision rule as pure functions over what describeProducers and the coordinator report. */
class TransactionWatchdogTest {
    private static final TopicPartition P0 = new TopicPartition("inference.responses", 0);
    private static final TopicPartition P1 = new TopicPartition("inference.responses", 1);
    private static final long MAX_OPEN = 60_000;

    private static ProducerState open(long producerId, int epoch, long startOffset) {
        return new ProducerState(producerId, epoch, 3, 1_000, OptionalInt.of(0), OptionalLong.of(startOffset));
    }

    private static ProducerState idle(long producerId) {
        return new ProducerState(producerId, 0, 3, 1_000, OptionalInt.of(0), OptionalLong.empty());
    }

    @Test
    void aTransactionIsOverdueOnlyOnceThisWatchdogHasSeenItOpenLongerThanTheBound() {
        Map<OpenKey, Long> seen = new HashMap<>();
        Map<TopicPartition, List<ProducerState>> report = Map.of(P0, List.of(open(7, 0, 100), idle(8)));

        assertThat(TransactionWatchdog.overdue(report, seen, 1_000, MAX_OPEN)).isEmpty();
        assertThat(TransactionWatchdog.overdue(report, seen, 1_000 + MAX_OPEN, MAX_OPEN)).as("exactly the bound: not yet").isEmpty();
        List<Overdue> overdue = TransactionWatchdog.overdue(report, seen, 1_001 + MAX_OPEN, MAX_OPEN);

        assertThat(overdue).singleElement().satisfies(o -> {
            assertThat(o.key()).isEqualTo(new OpenKey(P0, 7, 0, 100));
            assertThat(o.openMs()).isEqualTo(MAX_OPEN + 1);
        });
        assertThat(seen).as("a producer without an open transaction is not remembered").containsOnlyKeys(new OpenKey(P0, 7, 0, 100));
    }

    @Test
    void aBusyProducersSuccessiveShortTransactionsNeverAddUp() {
        Map<OpenKey, Long> seen = new HashMap<>();
        for (int scan = 0; scan < 20; scan++) {
            // every scan sees the producer in another transaction: one that starts at a later offset
            var report = Map.of(P0, List.of(open(7, 0, 100 + scan * 10L)));
            assertThat(TransactionWatchdog.overdue(report, seen, scan * 10_000L, MAX_OPEN)).isEmpty();
        }
        assertThat(seen).as("ended transactions are forgotten").hasSize(1);
    }

    @Test
    void aPartitionThatCouldNotBeDescribedKeepsWhatWasSeenOfIt() {
        Map<OpenKey, Long> seen = new HashMap<>();
        TransactionWatchdog.overdue(Map.of(P0, List.of(open(7, 0, 100)), P1, List.of(open(9, 2, 5))), seen, 0, MAX_OPEN);
        // P1's leader did not answer this time
        assertThat(TransactionWatchdog.overdue(Map.of(P0, List.of()), seen, 30_000, MAX_OPEN)).isEmpty();
        assertThat(seen).containsOnlyKeys(new OpenKey(P1, 9, 2, 5));
        assertThat(TransactionWatchdog.overdue(Map.of(P1, List.of(open(9, 2, 5))), seen, 60_001, MAX_OPEN))
                .extracting(Overdue::key).containsExactly(new OpenKey(P1, 9, 2, 5));
    }

    private static Overdue overdue(long producerId) {
        return new Overdue(new OpenKey(P0, producerId, 4, 100), open(producerId, 4, 100), 75_000);
    }

    private static TransactionDescription coordinator(TransactionState state, long producerId, Set<TopicPartition> partitions) {
        return new TransactionDescription(1, state, producerId, 5, 10_000, OptionalLong.of(0), partitions);
    }

    @Test
    void hangingWhenNoCoordinatorWillEverEndItThere() {
        assertThat(TransactionWatchdog.stuckReason(overdue(7), null, null)).startsWith("hanging").contains("no transactional id");
        assertThat(TransactionWatchdog.stuckReason(overdue(7), "w.1", null)).startsWith("hanging").contains("does not know");
        assertThat(TransactionWatchdog.stuckReason(overdue(7), "w.1", coordinator(TransactionState.COMPLETE_COMMIT, 7, Set.of())))
                .as("the coordinator completed it, the marker never came").startsWith("hanging").contains("does not include");
        assertThat(TransactionWatchdog.stuckReason(overdue(7), "w.1", coordinator(TransactionState.ONGOING, 7, Set.of(P1))))
                .as("a later transaction that does not write here").startsWith("hanging").contains("does not include");
        assertThat(TransactionWatchdog.stuckReason(overdue(7), "w.1", coordinator(TransactionState.ONGOING, 8, Set.of(P0))))
                .startsWith("hanging").contains("producer id 8");
    }

    @Test
    void stalledWhenItsCoordinatorStillHasIt() {
        assertThat(TransactionWatchdog.stuckReason(overdue(7), "w.1", coordinator(TransactionState.ONGOING, 7, Set.of(P0))))
                .startsWith("open 75 s").contains("ongoing").contains("stalled");
        assertThat(TransactionWatchdog.stuckReason(overdue(7), "w.1", coordinator(TransactionState.PREPARE_COMMIT, 7, Set.of(P0, P1))))
                .as("markers pending: another epoch is fine").contains("PrepareCommit").contains("stalled");
    }

    @Test
    void aHangingTransactionIsAbortedAfterTheHangingBoundAStalledOneAfterMaxOpenAndNeverOnTheOffsetsTopic() {
        TopicPartition offsets = new TopicPartition(TransactionWatchdog.OFFSETS_TOPIC, 2);
        String hanging = TransactionWatchdog.stuckReason(overdue(7), "w.1", coordinator(TransactionState.COMPLETE_ABORT, 7, Set.of()));
        String stalled = TransactionWatchdog.stuckReason(overdue(7), "w.1", coordinator(TransactionState.ONGOING, 7, Set.of(P0)));
        Overdue young = new Overdue(new OpenKey(P0, 7, 4, 100), open(7, 4, 100), 25_000);
        Overdue old = new Overdue(new OpenKey(P0, 7, 4, 100), open(7, 4, 100), 75_000);
        Overdue oldOffsets = new Overdue(new OpenKey(offsets, 7, 4, 100), open(7, 4, 100), 75_000);
        assertThat(TransactionWatchdog.abortable(young, hanging, MAX_OPEN)).as("hanging, past the hanging bound").isTrue();
        assertThat(TransactionWatchdog.abortable(young, stalled, MAX_OPEN)).as("stalled, not past max open").isFalse();
        assertThat(TransactionWatchdog.abortable(old, stalled, MAX_OPEN)).as("stalled past max open").isTrue();
        assertThat(TransactionWatchdog.abortable(oldOffsets, hanging, MAX_OPEN)).as("hanging on the offsets topic (the broker kill -9 case)").isTrue();
        assertThat(TransactionWatchdog.abortable(oldOffsets, stalled, MAX_OPEN)).as("another group's stalled producer is its coordinator's").isFalse();
    }
}
