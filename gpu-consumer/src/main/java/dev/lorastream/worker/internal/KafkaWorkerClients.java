package dev.lorastream.worker.internal;

import dev.lorastream.schemas.config.KafkaClientSettings;
import dev.lorastream.schemas.CancelRequest;
import dev.lorastream.schemas.ops.GroupMembership;
import dev.lorastream.schemas.ops.TransactionWatchdog;
import dev.lorastream.schemas.registry.RememberingSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.TopicDirectory;
import dev.lorastream.worker.WorkerConfig;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.util.HashMap;
import java.util.Map;

/** Real Kafka clients and an HTTP registry client configured from a {@link WorkerConfig}. */
public final class KafkaWorkerClients implements WorkerClients {
    private final WorkerConfig config;
    private final SchemaRegistryClient registry;

    public KafkaWorkerClients(WorkerConfig config) {
        this.config = config;
        this.registry = RememberingSchemaRegistryClient.connect(config.schemaRegistryUrl());
    }

    @Override
    public SchemaRegistryClient registry() { return registry; }

    @Override
    public Consumer<byte[], byte[]> requestConsumer() {
        return new KafkaConsumer<>(KafkaClientSettings.with(consumerProps(config)), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @Override
    public Producer<String, SpecificRecord> transactionalProducer() {
        return new KafkaProducer<>(KafkaClientSettings.with(transactionalProps(config)), new StringSerializer(), new AvroSerializer<>(registry, false));
    }

    @Override
    public Producer<String, SpecificRecord> statusProducer() {
        return new KafkaProducer<>(KafkaClientSettings.with(statusProps(config)), new StringSerializer(), new AvroSerializer<>(registry, false));
    }

    @Override
    public TransactionWatchdog transactionWatchdog() {
        if (!config.watchdogEnabled()) return null;
        return TransactionWatchdog.create(config.bootstrapServers(), config.workerId() + "-watchdog", config.watchdogInterval(), config.watchdogMaxOpen());
    }

    @Override
    public boolean leaveGroupOnClose() { return config.leaveGroupOnClose(); }

    @Override
    public TopicDirectory topics() { return TopicDirectory.of(config.bootstrapServers(), config.workerId() + "-topics"); }

    public static Map<String, Object> consumerProps(WorkerConfig config) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, config.workerId() + "-requests");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.maxPollRecords());
        // static membership under the worker id, a short session, cooperative rebalances: only the partitions that move are
        // revoked (the poll loop abandons just their work), the others keep being served
        p.putAll(GroupMembership.consumer(config.groupInstanceId(), config.sessionTimeout()));
        return p;
    }

    public static Map<String, Object> transactionalProps(WorkerConfig config) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, config.workerId() + "-output");
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.transactionalId());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        // each transaction is flushed at once; without lingering (Kafka 4's default is 5 ms) its records are
        // acknowledged while sendOffsetsToTransaction's round trips run, instead of after them
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) config.transactionTimeout().toMillis());
        return p;
    }

    @Override
    public Consumer<String, CancelRequest> cancelConsumer() {
        return new KafkaConsumer<>(KafkaClientSettings.with(groupLess("cancels")), new StringDeserializer(), new AvroDeserializer<>(registry, CancelRequest.class));
    }

    @Override
    public Consumer<String, dev.lorastream.schemas.AdapterDescriptor> catalogConsumer() {
        return new KafkaConsumer<>(KafkaClientSettings.with(groupLess("adapters")), new StringDeserializer(), new AvroDeserializer<>(registry, dev.lorastream.schemas.AdapterDescriptor.class));
    }

    /** A consumer that assigns itself partitions (no group, no commits) and starts at their end. */
    private Map<String, Object> groupLess(String purpose) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, config.workerId() + "-" + purpose);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        return p;
    }

    @Override
    public Producer<String, SpecificRecord> streamProducer() {
        return new KafkaProducer<>(KafkaClientSettings.with(streamProps(config)), new StringSerializer(), new AvroSerializer<>(registry, false));
    }

    /** Streamed tokens: sent at once (linger 0), not batched behind each other. */
    public static Map<String, Object> streamProps(WorkerConfig config) {
        Map<String, Object> p = statusProps(config);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, config.workerId() + "-stream");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        return p;
    }

    public static Map<String, Object> statusProps(WorkerConfig config) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, config.workerId() + "-status");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return p;
    }
}
