package dev.lorastream.ingest;

import dev.lorastream.schemas.config.KafkaClientSettings;
import dev.lorastream.ingest.internal.AdapterCatalogReader;
import dev.lorastream.schemas.SchemaTrust;
import dev.lorastream.ingest.internal.ResponseReader;
import dev.lorastream.ingest.internal.StreamReader;
import dev.lorastream.ingest.internal.TopicCreator;
import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.CancelRequest;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.TokenChunk;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.schemas.registry.RememberingSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.AvroSerializer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The Kafka face of {@link RequestGateway}: an idempotent producer (acks=all) for requests and
 * dead letters, a group-less read_committed reader of the reply topic positioned at its end when
 * this gateway is constructed, and a background reader of the adapter catalog. The reply and
 * dead-letter topics are created (broker defaults) when missing.
 */
public final class KafkaRequestGateway implements RequestGateway {
    static {
        SchemaTrust.ensure();
    }

    private static final Logger log = LoggerFactory.getLogger(KafkaRequestGateway.class);
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(30);

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final ClientConfig config;
    private final String clientId;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final KafkaProducer<String, SpecificRecord> producer;
    private final ResponseReader responses;
    private final AdapterCatalogReader catalog;
    private final StreamReader stream;

    public KafkaRequestGateway(ClientConfig config) {
        this.config = config;
        this.clientId = config.clientId() + "-" + INSTANCES.incrementAndGet();
        SchemaRegistryClient registry = RememberingSchemaRegistryClient.connect(config.schemaRegistryUrl());
        try {
            List<String> created = TopicCreator.ensure(config.bootstrapServers(), clientId,
                    List.of(config.replyTopic(), config.dlqTopic()));
            if (!created.isEmpty()) log.info("created missing topics {}", created);
            producer = new KafkaProducer<>(KafkaClientSettings.with(producerProps()), new StringSerializer(), new AvroSerializer<>(registry, false));
            resources.add(() -> producer.close(Duration.ofSeconds(5)));
            responses = new ResponseReader(new KafkaConsumer<>(KafkaClientSettings.with(consumerProps("responses", "latest")), new StringDeserializer(),
                    new AvroDeserializer<>(registry, InferenceResponse.class)), config.replyTopic(), METADATA_TIMEOUT);
            resources.add(responses);
            stream = new StreamReader(new KafkaConsumer<>(KafkaClientSettings.with(streamConsumerProps()), new StringDeserializer(),
                    new AvroDeserializer<>(registry, TokenChunk.class)), Topics.STREAM, METADATA_TIMEOUT);
            resources.add(stream);
            catalog = new AdapterCatalogReader(new KafkaConsumer<>(KafkaClientSettings.with(consumerProps("catalog", "earliest")), new StringDeserializer(),
                    new AvroDeserializer<>(registry, AdapterDescriptor.class)), config.catalogTopic());
            resources.add(catalog);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void start(Consumer<InferenceResponse> listener) { responses.start(listener); }

    @Override
    public void startStream(Consumer<TokenChunk> listener) { stream.start(listener); }

    @Override
    public CompletableFuture<Void> send(InferenceRequest request) {
        return publish(config.requestTopic(), request.getRequestId(), request);
    }

    @Override
    public CompletableFuture<Void> cancel(CancelRequest cancel) {
        return publish(Topics.CANCELS, cancel.getRequestId(), cancel);
    }

    @Override
    public CompletableFuture<Void> deadLetter(DeadLetter letter) {
        return publish(config.dlqTopic(), letter.getRequestId(), letter);
    }

    @Override
    public Map<String, AdapterDescriptor> adapters() { return catalog.snapshot(); }

    @Override
    public String replyTopic() { return config.replyTopic(); }

    @Override
    public String describe() { return "kafka " + config.bootstrapServers() + " (requests " + config.requestTopic() + ", replies " + config.replyTopic() + ")"; }

    @Override
    public void close() {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                log.warn("closing {} failed: {}", resources.get(i), e.toString());
            }
        }
        resources.clear();
    }

    private CompletableFuture<Void> publish(String topic, String key, SpecificRecord value) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        producer.send(new ProducerRecord<>(topic, key, value), (metadata, error) -> {
            if (error != null) acked.completeExceptionally(error);
            else acked.complete(null);
        });
        return acked;
    }

    private Map<String, Object> producerProps() {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId + "-producer");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0); // a request goes at once: it is on its caller's time to first token (batches still form while sends are in flight)
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        return props;
    }

    /** Token chunks are sent outside transactions: read them uncommitted, at once. */
    private Map<String, Object> streamConsumerProps() {
        Map<String, Object> props = consumerProps("stream", "latest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        return props;
    }

    private Map<String, Object> consumerProps(String role, String reset) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId + "-" + role);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, reset);
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        return props;
    }
}
