package dev.lorastream.ingest;

import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * Stands in for the router and the GPU workers in integration tests: reads inference.requests
 * (every partition, from its end when constructed) and answers each request on its reply topic,
 * transactionally, with what the function returns (null: no answer). The function may return
 * several responses; all are written in one committed transaction, except that a response whose
 * text is {@link #ABORTED_TEXT} is written in a transaction that is aborted.
 */
public final class FakeWorker implements AutoCloseable {
    public static final String ABORTED_TEXT = "ABORTED";

    private final KafkaConsumer<String, InferenceRequest> consumer;
    private final KafkaProducer<String, InferenceResponse> producer;
    private final Function<InferenceRequest, List<InferenceResponse>> answer;
    private final Thread thread;
    private volatile boolean running = true;

    public FakeWorker(String bootstrap, Topics topics, Function<InferenceRequest, List<InferenceResponse>> answer) {
        this.answer = answer;
        consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                topics.requests.keySerde().deserializer(), topics.requests.valueSerde().deserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(Topics.REQUESTS).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
        producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "fake-worker-" + UUID.randomUUID()),
                topics.responses.keySerde().serializer(), topics.responses.valueSerde().serializer());
        producer.initTransactions();
        thread = new Thread(this::loop, "fake-worker");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        try {
            while (running) {
                for (ConsumerRecord<String, InferenceRequest> record : consumer.poll(Duration.ofMillis(100))) {
                    InferenceRequest request = record.value();
                    List<InferenceResponse> responses = answer.apply(request);
                    if (responses == null || responses.isEmpty()) continue;
                    String topic = request.getReplyTopic() != null ? request.getReplyTopic() : Topics.RESPONSES;
                    for (InferenceResponse response : responses) {
                        producer.beginTransaction();
                        producer.send(new ProducerRecord<>(topic, response.getRequestId(), response));
                        if (ABORTED_TEXT.equals(response.getText())) {
                            producer.flush();
                            producer.abortTransaction();
                        } else {
                            producer.commitTransaction();
                        }
                    }
                }
            }
        } catch (WakeupException e) {
            // closing
        } finally {
            consumer.close(Duration.ofSeconds(2));
            producer.close(Duration.ofSeconds(2));
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(10_000);
    }
}
