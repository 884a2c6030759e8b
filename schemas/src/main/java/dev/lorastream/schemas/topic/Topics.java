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
import java.util.Optional;
import java.util.regex.Pattern;

/** Every topic of the pipeline, typed, over one registry. Keys are strings. */
public final class Topics {
    public static final String REQUESTS = "inference.requests";
    /**
     * The router's own repartition of inference.requests by request id (the original records' bytes, key request id): a record
     * whose key is not its request id, or that is not on the partition the default partitioner gives that key, goes through it so
     * that every record of one request id meets the same router task (its dedupe store). Same partition count as inference.requests.
     */
    public static final String REQUESTS_BY_ID = "inference.requests.by-id";
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

    /**
     * Reply topics a request may name unless configured otherwise (router.reply.topic.pattern, the worker's reply.topic.pattern):
     * inference.responses and topics named after it, e.g. inference.responses.client-1.
     */
    public static final String DEFAULT_REPLY_TOPIC_PATTERN = "inference\\.responses.*";
    /** The compiled {@link #DEFAULT_REPLY_TOPIC_PATTERN}. */
    public static final Pattern DEFAULT_REPLY_PATTERN = Pattern.compile(DEFAULT_REPLY_TOPIC_PATTERN);

    /** Key used on the routed and attribution topics for requests served by the plain backbone. */
    public static final String BASE_MODEL_KEY = "__base__";

    static {
        SchemaTrust.ensure();
    }

    /** Value schema of each topic. */
    public static final Map<String, Schema> VALUE_SCHEMAS = Map.of(
            REQUESTS, InferenceRequest.getClassSchema(),
            REQUESTS_BY_ID, InferenceRequest.getClassSchema(),
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
     * {@link #declareSubjects(SchemaRegistryClient)}, waiting up to {@code wait} for a registry that cannot
     * be reached (a retriable failure; one log line every 10 s) instead of failing at once: a component
     * started, or restarted by its supervisor, while the registry is down comes up when it is back rather
     * than crash-looping. When every subject was declared before and the ids are remembered
     * ({@link SchemaRegistryClient#rememberedId}), it goes on at once: the component can work from them.
     * A refusal (not retriable) is thrown at once.
     */
    public static void declareSubjects(SchemaRegistryClient registry, java.time.Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        long nextLog = 0;
        while (true) {
            try {
                declareSubjects(registry);
                return;
            } catch (dev.lorastream.schemas.registry.SchemaRegistryException e) {
                if (!e.isRetriable() || System.nanoTime() > deadline) throw e;
                if (VALUE_SCHEMAS.entrySet().stream().allMatch(s -> registry.rememberedId(Subjects.of(s.getKey(), false), s.getValue()).isPresent())) {
                    org.slf4j.LoggerFactory.getLogger(Topics.class).warn("schema registry unreachable; every subject was declared before"
                            + " (its ids are remembered), going on without it: {}", e.getMessage());
                    return;
                }
                if (System.nanoTime() >= nextLog) {
                    org.slf4j.LoggerFactory.getLogger(Topics.class).warn("schema registry unreachable, waiting for it (up to {} s): {}",
                            wait.toSeconds(), e.getMessage());
                    nextLog = System.nanoTime() + 10_000_000_000L;
                }
                Thread.sleep(1_000);
            }
        }
    }

    /** {@link #replyTopicProblem(String, Pattern)} with {@link #DEFAULT_REPLY_TOPIC_PATTERN}. */
    public static Optional<String> replyTopicProblem(String topic) {
        return replyTopicProblem(topic, DEFAULT_REPLY_PATTERN);
    }

    /**
     * Why a request's reply topic cannot be used, or empty when it can (null means inference.responses and is
     * fine): not a legal topic name, one of Kafka's internal topics, one of the pipeline's own topics other than
     * inference.responses (they carry other records: the registry would refuse a response there, and the producer
     * that tried would be stuck), or a name that {@code allowed} does not match as a whole (so that a request cannot
     * have its answer written to any topic the pipeline's producers may write). The router refuses such a request; a
     * worker given one answers on inference.responses. The one rule, for both.
     */
    public static Optional<String> replyTopicProblem(String topic, Pattern allowed) {
        if (topic == null) return Optional.empty();
        String reason = null;
        if (!dev.lorastream.schemas.config.ConfigChecks.isTopicName(topic)) {
            String shown = topic.length() <= 64 ? topic : topic.substring(0, 61) + "...";
            reason = "'" + shown + "' is not a legal Kafka topic name (1 to 249 of [a-zA-Z0-9._-], not '.' or '..')";
        } else if (topic.startsWith("__")) {
            reason = "'" + topic + "' is reserved for Kafka's internal topics";
        } else if (VALUE_SCHEMAS.containsKey(topic) && !topic.equals(RESPONSES)) {
            reason = "'" + topic + "' is one of the pipeline's own topics and carries " + VALUE_SCHEMAS.get(topic).getName() + " records, not responses";
        } else if (!allowed.matcher(topic).matches()) {
            reason = "'" + topic + "' does not match the reply topics this pipeline answers on (" + allowed.pattern()
                    + "); name one that does, or leave reply_topic unset to be answered on " + RESPONSES;
        }
        return Optional.ofNullable(reason);
    }
}
