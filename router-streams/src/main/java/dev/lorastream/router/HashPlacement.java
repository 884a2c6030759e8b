package dev.lorastream.router;

import org.apache.kafka.common.utils.Utils;

import java.nio.charset.StandardCharsets;

/**
 * Every request of one adapter on one partition: the murmur2 hash of the key's UTF-8 bytes modulo
 * the partition count, exactly as Kafka's default partitioner places a keyed record. Stateless
 * and deterministic across processes and restarts.
 */
public final class HashPlacement implements PlacementStrategy {
    @Override
    public int partition(String adapterKey, String requestId, int numPartitions) {
        if (adapterKey == null) throw new IllegalArgumentException("adapter key is null; the backbone's key is Topics.BASE_MODEL_KEY");
        if (numPartitions < 1) throw new IllegalArgumentException("numPartitions must be positive, was " + numPartitions);
        return Utils.toPositive(Utils.murmur2(adapterKey.getBytes(StandardCharsets.UTF_8))) % numPartitions;
    }

    @Override
    public String toString() { return "hash placement (murmur2 of the adapter id)"; }
}
