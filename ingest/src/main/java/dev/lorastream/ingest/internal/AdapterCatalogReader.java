package dev.lorastream.ingest.internal;

import dev.lorastream.schemas.topic.AssignedReader;

import dev.lorastream.schemas.AdapterDescriptor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps the compacted adapter catalog as a map (adapter id to its latest descriptor; a tombstone
 * removes it), read from the beginning in the background. Waits for the topic when it does not
 * exist yet.
 */
public final class AdapterCatalogReader extends AssignedReader<AdapterDescriptor> {
    private static final Logger log = LoggerFactory.getLogger(AdapterCatalogReader.class);

    private final Map<String, AdapterDescriptor> adapters = new ConcurrentHashMap<>();
    private boolean assigned;

    public AdapterCatalogReader(KafkaConsumer<String, AdapterDescriptor> consumer, String topic) {
        super(consumer, topic, "ingest-catalog-" + topic);
        startThread();
    }

    /** The adapters read so far, by id. */
    public Map<String, AdapterDescriptor> snapshot() { return Map.copyOf(adapters); }

    @Override
    protected boolean ready() {
        if (assigned) return true;
        List<TopicPartition> partitions = partitions(Duration.ofSeconds(2));
        if (partitions.isEmpty()) {
            pause(1000);
            return false;
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        assigned = true;
        log.debug("reading adapter catalog {} ({} partitions)", topic, partitions.size());
        return true;
    }

    @Override
    protected void accept(ConsumerRecord<String, AdapterDescriptor> record) {
        String id = record.key() != null ? record.key() : record.value() != null ? record.value().getAdapterId() : null;
        if (id == null) return;
        if (record.value() == null) adapters.remove(id);
        else adapters.put(id, record.value());
    }
}
