package dev.lorastream.ingest.internal;

import dev.lorastream.schemas.topic.AssignedReader;

import dev.lorastream.schemas.TokenChunk;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads inference.stream ({@link TokenChunk}s) from its end offsets at construction: every
 * partition assigned, no group, read_uncommitted (chunks are sent outside transactions). A missing
 * topic is looked for again until it exists.
 */
public final class StreamReader extends AssignedReader<TokenChunk> {
    private volatile Consumer<TokenChunk> listener;
    private boolean assigned;

    public StreamReader(KafkaConsumer<String, TokenChunk> consumer, String topic, Duration metadataTimeout) {
        super(consumer, topic, "ingest-stream-" + topic);
        try {
            assign(metadataTimeout);
        } catch (RuntimeException e) {
            consumer.close(Duration.ZERO);
            throw e;
        }
    }

    private void assign(Duration timeout) {
        List<TopicPartition> partitions = partitions(timeout);
        if (partitions.isEmpty()) return;
        consumer.assign(partitions);
        consumer.endOffsets(partitions, timeout).forEach(consumer::seek);
        assigned = true;
    }

    public void start(Consumer<TokenChunk> listener) {
        this.listener = listener;
        startThread();
    }

    @Override
    protected boolean ready() {
        if (!assigned) {
            assign(Duration.ofSeconds(2));
            if (!assigned) pause(500);
        }
        return assigned;
    }

    @Override
    protected void accept(ConsumerRecord<String, TokenChunk> record) {
        if (record.value() != null) listener.accept(record.value());
    }
}
