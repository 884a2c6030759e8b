package dev.lorastream.schemas.topic;

import org.apache.kafka.common.serialization.Serde;

/** A topic with the serdes of its key and value. */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {
    @Override
    public String toString() { return name; }
}
