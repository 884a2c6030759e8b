package dev.lorastream.schemas.topic;

import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.SchemaTrust;
import dev.lorastream.schemas.TokenChunk;
import dev.lorastream.schemas.CancelRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.registry.Compatibility;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroSerde;
import dev.lorastream.schemas.serde.Subjects;
import org.apache.avro.Schema;
import org.apache.kafka.common.serialization.Serdes;

import java.util.List;
import java.util.Map;

/** Every topic of the pipeline, typed, over one registry. Keys are strings. */
public final class Topics {
    public static final String REQUESTS = "inference.requests";
    public static final String ROUTED = "inference.requests.routed";
    public static final String RESPONSES = "inference.responses";
    public static final String ATTRIBUTION = "attribution.events";
    public static final String DLQ = "inference.dlq";
    public static final String WORKER_STATUS = "workers.status";
    public static final String ADAPTER_CATALOG = "adapters.catalog";
    /** Streaming requests' tokens as they are generated (TokenChunk), outside transactions; kept {@link #STREAM_RETENTION_MS}. */
    public static final String STREAM = "inference.stream";
    public static final long STREAM_RETENTION_MS = 3_600_000L;
    /** Cancellations of requests in flight (CancelRequest), kept {@link #STREAM_RETENTION_MS}. */
    public static final String CANCELS = "inference.cancels";

    /** Key used on the routed and attribution topics for requests served by the plain backbone. */
    public static final String BASE_MODEL_KEY = "__base__";

    static {
        SchemaTrust.ensure();
    }

    /** Value schema of each topic. */
    public static final Map<String, Schema> VALUE_SCHEMAS = Map.of(
            REQUESTS, InferenceRequest.getClassSchema(),
            ROUTED, InferenceRequest.getClassSchema(),
            RESPONSES, InferenceResponse.getClassSchema(),
            ATTRIBUTION, AttributionEvent.getClassSchema(),
            DLQ, DeadLetter.getClassSchema(),
            WORKER_STATUS, WorkerStatus.getClassSchema(),
            ADAPTER_CATALOG, AdapterDescriptor.getClassSchema(),
            STREAM, TokenChunk.getClassSchema(),
            CANCELS, CancelRequest.getClassSchema());

    /** Topics that keep only the latest value per key. */
    public static final List<String> COMPACTED = List.of(WORKER_STATUS, ADAPTER_CATALOG);

    public final Topic<String, InferenceRequest> requests;
    public final Topic<String, InferenceRequest> routed;
    public final Topic<String, InferenceResponse> responses;
    public final Topic<String, AttributionEvent> attribution;
    public final Topic<String, DeadLetter> dlq;
    public final Topic<String, WorkerStatus> workerStatus;
    public final Topic<String, AdapterDescriptor> adapterCatalog;
    public final Topic<String, TokenChunk> stream;
    public final Topic<String, CancelRequest> cancels;

    public Topics(SchemaRegistryClient registry) {
        var requestSerde = AvroSerde.forValue(registry, InferenceRequest.class);
        requests = new Topic<>(REQUESTS, Serdes.String(), requestSerde);
        routed = new Topic<>(ROUTED, Serdes.String(), requestSerde);
        responses = new Topic<>(RESPONSES, Serdes.String(), AvroSerde.forValue(registry, InferenceResponse.class));
        attribution = new Topic<>(ATTRIBUTION, Serdes.String(), AvroSerde.forValue(registry, AttributionEvent.class));
        dlq = new Topic<>(DLQ, Serdes.String(), AvroSerde.forValue(registry, DeadLetter.class));
        workerStatus = new Topic<>(WORKER_STATUS, Serdes.String(), AvroSerde.forValue(registry, WorkerStatus.class));
        adapterCatalog = new Topic<>(ADAPTER_CATALOG, Serdes.String(), AvroSerde.forValue(registry, AdapterDescriptor.class));
        stream = new Topic<>(STREAM, Serdes.String(), AvroSerde.forValue(registry, TokenChunk.class));
        cancels = new Topic<>(CANCELS, Serdes.String(), AvroSerde.forValue(registry, CancelRequest.class));
    }

    /**
     * Declares BACKWARD compatibility on every value subject and registers the current schemas,
     * so that an incompatible change is refused by the registry before any producer uses it.
     */
    public static void declareSubjects(SchemaRegistryClient registry) {
        VALUE_SCHEMAS.forEach((topic, schema) -> {
            String subject = Subjects.of(topic, false);
            registry.setCompatibility(subject, Compatibility.BACKWARD);
            registry.register(subject, schema);
        });
    }

    /**
     * Why a request's reply topic cannot be used, or empty when it can (null means inference.responses and is
     * fine): not a legal topic name, one of Kafka's internal topics, or one of the pipeline's own topics other than
     * inference.responses (they carry other records: the registry would refuse a response there, and the producer
     * that tried would be stuck). The router refuses such a request; a worker given one answers on inference.responses.
     */
    public static java.util.Optional<String> replyTopicProblem(String topic) {
        if (topic == null) return java.util.Optional.empty();
        String reason = null;
        if (!dev.lorastream.schemas.config.ConfigChecks.isTopicName(topic)) {
            String shown = topic.length() <= 64 ? topic : topic.substring(0, 61) + "...";
            reason = "'" + shown + "' is not a legal Kafka topic name (1 to 249 of [a-zA-Z0-9._-], not '.' or '..')";
        } else if (topic.startsWith("__")) {
            reason = "'" + topic + "' is reserved for Kafka's internal topics";
        } else if (VALUE_SCHEMAS.containsKey(topic) && !topic.equals(RESPONSES)) {
            reason = "'" + topic + "' is one of the pipeline's own topics and carries " + VALUE_SCHEMAS.get(topic).getName() + " records, not responses";
        }
        return java.util.Optional.ofNullable(reason);
    }
}
