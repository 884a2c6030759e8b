package dev.lorastream.router;

import dev.lorastream.schemas.InferenceRequest;
import org.apache.kafka.streams.processor.StreamPartitioner;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Partitions the routed topic by adapter: the record key (adapter id, or
 * {@code Topics.BASE_MODEL_KEY}) is handed to a {@link PlacementStrategy}, whose answer is
 * checked to lie within the topic's partitions.
 */
public final class AdapterPartitioner implements StreamPartitioner<String, InferenceRequest> {
    private final PlacementStrategy placement;

    public AdapterPartitioner(PlacementStrategy placement) {
        this.placement = Objects.requireNonNull(placement, "placement");
    }

    public AdapterPartitioner() { this(new HashPlacement()); }

    @Override
    public Optional<Set<Integer>> partitions(String topic, String adapterKey, InferenceRequest request, int numPartitions) {
        int partition = placement.partition(adapterKey, request == null ? null : request.getRequestId(), numPartitions);
        if (partition < 0 || partition >= numPartitions) {
            throw new IllegalStateException(placement + " chose partition " + partition + " for adapter '" + adapterKey
                    + "' but topic " + topic + " has " + numPartitions + " partitions");
        }
        return Optional.of(Set.of(partition));
    }

    public PlacementStrategy placement() { return placement; }
}
