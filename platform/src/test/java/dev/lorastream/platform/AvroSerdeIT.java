package dev.lorastream.platform;

import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroSerde;
import dev.lorastream.schemas.serde.WireFormat;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Confluent wire-format serde through the real broker and the real registry. */
class AvroSerdeIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private final KafkaPlatform platform = TestPlatform.shared();

    @Test
    void requestsRoundTripThroughBrokerAndRegistry() throws Exception {
        // Given a producer and a consumer using the serde over the registry (separate clients, separate caches)
        String topic = Records.uniqueTopic("requests");
        Records.createTopic(platform.bootstrapServers(), topic, 2);
        List<InferenceRequest> sent = IntStream.range(0, 20).mapToObj(i -> Records.request("r" + i, i % 2 == 0 ? "dermatology" : null)).toList();
        Serde<InferenceRequest> producerSerde = AvroSerde.forValue(new HttpSchemaRegistryClient(platform.schemaRegistryUrl()), InferenceRequest.class);
        Serde<InferenceRequest> consumerSerde = AvroSerde.forValue(new HttpSchemaRegistryClient(platform.schemaRegistryUrl()), InferenceRequest.class);

        // When the requests are produced
        try (KafkaProducer<String, InferenceRequest> producer = Records.producer(platform.bootstrapServers(), Map.of(), producerSerde.serializer())) {
            for (InferenceRequest r : sent) producer.send(new ProducerRecord<>(topic, r.getRequestId(), r)).get();
        }

        // Then they are read back equal, and the bytes on the topic are wire format with a registry id
        try (KafkaConsumer<String, InferenceRequest> consumer = Records.consumer(platform.bootstrapServers(), Map.of(), consumerSerde.deserializer())) {
            assertThat(Records.readAll(consumer, topic, 2, sent.size(), TIMEOUT)).extracting(ConsumerRecord::value)
                    .containsExactlyInAnyOrderElementsOf(sent);
        }
        try (KafkaConsumer<String, byte[]> raw = Records.consumer(platform.bootstrapServers(), Map.of(), new ByteArrayDeserializer())) {
            byte[] bytes = Records.readAll(raw, topic, 2, sent.size(), TIMEOUT).getFirst().value();
            int id = WireFormat.schemaId(topic, bytes);
            assertThat(new HttpSchemaRegistryClient(platform.schemaRegistryUrl()).schemaById(id))
                    .isEqualTo(InferenceRequest.getClassSchema());
        }
    }

    @Test
    void anotherEventTypeOnTheTopicFailsDeserializationAtItsOffset() throws Exception {
        // Given a topic holding a WorkerStatus where InferenceRequests are expected
        String topic = Records.uniqueTopic("mixed");
        Records.createTopic(platform.bootstrapServers(), topic, 1);
        HttpSchemaRegistryClient registry = new HttpSchemaRegistryClient(platform.schemaRegistryUrl());
        WorkerStatus status = WorkerStatus.newBuilder().setWorkerId("w").setHost("h").setState("RUNNING")
                .setRunningRequests(0).setWaitingRequests(0).setFreeMemoryBytes(1).setExecutionProvider("CPU")
                .setBaseModel("m").setHeartbeatAtMs(java.time.Instant.ofEpochMilli(1)).build();
        try (KafkaProducer<String, WorkerStatus> producer = Records.producer(platform.bootstrapServers(), Map.of(),
                AvroSerde.forValue(registry, WorkerStatus.class).serializer())) {
            producer.send(new ProducerRecord<>(topic, "w", status)).get();
        }

        // Then a consumer of InferenceRequests fails on it, naming the type it found
        try (KafkaConsumer<String, InferenceRequest> consumer = Records.consumer(platform.bootstrapServers(), Map.of(),
                AvroSerde.forValue(registry, InferenceRequest.class).deserializer())) {
            assertThatThrownBy(() -> Records.readAll(consumer, topic, 1, 1, TIMEOUT))
                    .isInstanceOf(RecordDeserializationException.class)
                    .hasRootCauseMessage("schema id " + registry.register(topic + "-value", WorkerStatus.getClassSchema())
                            + " is dev.lorastream.schemas.WorkerStatus, not dev.lorastream.schemas.InferenceRequest: wrong event type for this topic");
        }
    }
}
