package dev.lorastream.router.internal;

import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroSerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.RecordContext;
import org.apache.kafka.streams.processor.TopicNameExtractor;

/** An error response with the topic it goes to: the caller's reply topic, or inference.responses. */
public record AddressedResponse(String topic, InferenceResponse response) {

    /** Sends each response to its own topic. */
    public static final class TopicExtractor implements TopicNameExtractor<String, AddressedResponse> {
        @Override
        public String extract(String key, AddressedResponse value, RecordContext context) { return value.topic(); }
    }

    /** Writes only the response, in the wire format, registering under {@code <reply topic>-value}. */
    public static final class ValueSerializer implements Serializer<AddressedResponse> {
        private final AvroSerializer<InferenceResponse> delegate;

        public ValueSerializer(SchemaRegistryClient registry) { this.delegate = new AvroSerializer<>(registry, false); }

        @Override
        public byte[] serialize(String topic, AddressedResponse value) {
            return value == null ? null : delegate.serialize(topic, value.response());
        }
    }
}
