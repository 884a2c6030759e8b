package dev.lorastream.ingest.internal;

import dev.lorastream.schemas.topic.AssignedReader;

import dev.lorastream.ingest.IngestException;
import dev.lorastream.schemas.InferenceResponse;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Reads the reply topic from the end offsets captured at construction: every partition assigned,
 * no consumer group, read_committed (the consumer's properties say so). Responses written after
 * construction are all seen, even those for requests sent before {@link #start} was called.
 */
public final class ResponseReader extends AssignedReader<InferenceResponse> {
    private final Map<TopicPartition, Long> startOffsets;
    private volatile Consumer<InferenceResponse> listener;

    public ResponseReader(KafkaConsumer<String, InferenceResponse> consumer, String topic, Duration metadataTimeout) {
        super(consumer, topic, "ingest-responses-" + topic);
        try {
            List<TopicPartition> partitions = awaitPartitions(metadataTimeout);
            consumer.assign(partitions);
            startOffsets = consumer.endOffsets(partitions, metadataTimeout);
            startOffsets.forEach(consumer::seek);
        } catch (RuntimeException e) {
            consumer.close(Duration.ZERO);
            throw e;
        }
    }

    /** Where reading starts, per partition (the end offsets at construction). */
    public Map<TopicPartition, Long> startOffsets() { return startOffsets; }

    public void start(Consumer<InferenceResponse> listener) {
        this.listener = listener;
        startThread();
    }

    @Override
    protected void accept(ConsumerRecord<String, InferenceResponse> record) {
        if (record.value() != null) listener.accept(record.value());
    }

    private List<TopicPartition> awaitPartitions(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<TopicPartition> partitions = partitions(Duration.ofSeconds(2));
            if (!partitions.isEmpty()) return partitions;
            if (System.nanoTime() > deadline) {
                throw new IngestException("reply topic " + topic + " has no partitions after " + timeout.toMillis() + " ms");
            }
            pause(100);
        }
    }
}
