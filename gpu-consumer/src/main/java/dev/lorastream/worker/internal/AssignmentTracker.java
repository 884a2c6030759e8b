package dev.lorastream.worker.internal;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Follows the partitions this worker holds (for heartbeats) and, when partitions are revoked or
 * lost, makes sure nothing half-done is committed: an open transaction is aborted.
 */
public final class AssignmentTracker implements ConsumerRebalanceListener {
    private static final Logger log = LoggerFactory.getLogger(AssignmentTracker.class);

    private final java.util.function.Consumer<Collection<TopicPartition>> abortOpenWork;
    private final Set<TopicPartition> held = new TreeSet<>(java.util.Comparator.comparing(TopicPartition::toString));
    private volatile List<Integer> partitions = List.of();

    /** @param abortOpenWork aborts the transaction in progress, if there is one */
    public AssignmentTracker(Runnable abortOpenWork) { this(partitions -> abortOpenWork.run()); }

    /** @param abortOpenWork aborts the transaction in progress and abandons the work of the partitions given */
    public AssignmentTracker(java.util.function.Consumer<Collection<TopicPartition>> abortOpenWork) {
        this.abortOpenWork = abortOpenWork;
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
        held.addAll(assigned);
        publish();
        log.info("assigned {}, holding {}", assigned, held);
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
        abortOpenWork.accept(revoked);
        held.removeAll(revoked);
        publish();
        log.info("revoked {}, holding {}", revoked, held);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> lost) {
        abortOpenWork.accept(lost);
        held.removeAll(lost);
        publish();
        log.warn("lost {}, holding {}", lost, held);
    }

    /** Partition numbers currently held, sorted; safe to read from any thread. */
    public List<Integer> partitions() { return partitions; }

    private void publish() {
        partitions = held.stream().map(TopicPartition::partition).sorted().distinct().toList();
    }
}
