package dev.lorastream.worker.internal;

import dev.lorastream.schemas.CancelRequest;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class CancellationsTest {
    private static final TopicPartition TP = new TopicPartition(Topics.CANCELS, 0);

    @Test
    void anUnreadableRecordIsSkippedAndTheCancellationsAfterItAreSeen() {
        // offset 0 cannot be read, as a real consumer fails on it at every poll until someone seeks past it
        MockConsumer<String, CancelRequest> consumer = new MockConsumer<>("latest") {
            @Override
            public synchronized ConsumerRecords<String, CancelRequest> poll(Duration timeout) {
                if (!assignment().isEmpty() && position(TP) == 0) {
                    throw new RecordDeserializationException(RecordDeserializationException.DeserializationExceptionOrigin.VALUE, TP, 0L,
                            0L, TimestampType.CREATE_TIME, null, null, null, "not avro", null);
                }
                return super.poll(timeout);
            }
        };
        consumer.updatePartitions(Topics.CANCELS, List.of(new PartitionInfo(Topics.CANCELS, 0, Node.noNode(), new Node[0], new Node[0])));
        consumer.updateEndOffsets(Map.of(TP, 0L));
        try (Cancellations cancellations = new Cancellations(consumer, "w")) {
            await().atMost(Duration.ofSeconds(5)).until(() -> !consumer.assignment().isEmpty());
            consumer.schedulePollTask(() -> consumer.addRecord(new ConsumerRecord<>(Topics.CANCELS, 0, 1L, "r1",
                    CancelRequest.newBuilder().setRequestId("r1").setReason("gone").setRequestedAtMs(Instant.now()).build())));
            await().atMost(Duration.ofSeconds(5)).until(() -> cancellations.of("r1") != null);
            assertThat(cancellations.of("r1").getReason()).isEqualTo("gone");
            assertThat(cancellations.of("r2")).isNull();
        }
    }
}
