package dev.lorastream.router;

import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AdapterPartitionerTest {
    private static final String TOPIC = Topics.ROUTED;

    @Test
    void everyRequestOfOneAdapterGoesToOnePartition() {
        AdapterPartitioner partitioner = new AdapterPartitioner();
        Set<Optional<Set<Integer>>> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            seen.add(partitioner.partitions(TOPIC, "dermatology", Requests.valid("r-" + i, "dermatology").build(), 8));
        }
        assertThat(seen).hasSize(1);
        assertThat(seen.iterator().next()).get().satisfies(p -> assertThat(p).hasSize(1));
    }

    @Test
    void thePartitionIsTheSameInAnotherInstanceAsInAnotherProcess() {
        int first = new AdapterPartitioner().partitions(TOPIC, "cardiology", null, 4).orElseThrow().iterator().next();
        int second = new AdapterPartitioner(new HashPlacement()).partitions(TOPIC, "cardiology", null, 4).orElseThrow().iterator().next();
        assertThat(second).isEqualTo(first);
    }

    @Test
    void hashPlacementAgreesWithKafkasDefaultPartitionerForKeyedRecords() {
        HashPlacement placement = new HashPlacement();
        for (String key : new String[] {"dermatology", "cardiology", "nutrition", Topics.BASE_MODEL_KEY, "a", "ü-adapter"}) {
            for (int partitions : new int[] {1, 3, 4, 12, 100}) {
                assertThat(placement.partition(key, null, partitions))
                        .as("%s over %d partitions", key, partitions)
                        .isEqualTo(BuiltInPartitioner.partitionForKey(key.getBytes(StandardCharsets.UTF_8), partitions));
            }
        }
    }

    @Test
    void manyAdaptersSpreadOverEveryPartition() {
        HashPlacement placement = new HashPlacement();
        Set<Integer> used = new HashSet<>();
        IntStream.range(0, 100).forEach(i -> used.add(placement.partition("adapter-" + i, null, 4)));
        assertThat(used).containsExactlyInAnyOrder(0, 1, 2, 3);
    }

    @Test
    void thePartitionerAsksTheConfiguredStrategy() {
        AdapterPartitioner partitioner = new AdapterPartitioner((key, requestId, n) -> key.equals("nutrition") ? n - 1 : 0);

        assertThat(partitioner.partitions(TOPIC, "nutrition", null, 6)).contains(Set.of(5));
        assertThat(partitioner.partitions(TOPIC, "dermatology", null, 6)).contains(Set.of(0));
    }

    @Test
    void aStrategyThatChoosesAPartitionOutsideTheTopicIsRefused() {
        AdapterPartitioner partitioner = new AdapterPartitioner((key, requestId, n) -> n);

        assertThatThrownBy(() -> partitioner.partitions(TOPIC, "nutrition", null, 4))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("partition 4").hasMessageContaining("has 4 partitions");
    }

    @Test
    void hashPlacementRefusesANullKey() {
        assertThatThrownBy(() -> new HashPlacement().partition(null, null, 4)).hasMessageContaining("BASE_MODEL_KEY");
    }
}
