package dev.lorastream.worker.internal;

import dev.lorastream.schemas.CancelRequest;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicDirectory;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * Where a worker gets its Kafka clients and registry: {@link KafkaWorkerClients} for real ones,
 * mock clients in tests. Each call makes a new client; the caller closes it.
 */
public interface WorkerClients {

    SchemaRegistryClient registry();

    /** Consumer of the routed requests, keys and values as bytes, read_committed, no auto commit. */
    Consumer<byte[], byte[]> requestConsumer();

    /** Transactional, idempotent producer (acks=all) with the worker's stable transactional id. */
    Producer<String, SpecificRecord> transactionalProducer();

    /** Plain producer for heartbeats. */
    Producer<String, SpecificRecord> statusProducer();

    /** Plain producer for streamed tokens (no lingering); by default one like the heartbeats'. */
    default Producer<String, SpecificRecord> streamProducer() { return statusProducer(); }

    /** A group-less consumer for inference.cancels (latest offsets); null: this worker does not follow cancellations. */
    default Consumer<String, CancelRequest> cancelConsumer() { return null; }

    /** A group-less consumer of adapters.catalog, or null (mock clients: the worker then follows no catalog). */
    default Consumer<String, dev.lorastream.schemas.AdapterDescriptor> catalogConsumer() { return null; }

    /**
     * The transaction watchdog over the pipeline's topics (not started), or null: disabled, or mock clients. Each
     * call makes a new one; the caller closes it.
     */
    default dev.lorastream.schemas.ops.TransactionWatchdog transactionWatchdog() { return null; }

    /** Whether the request consumer leaves its group when closed (see {@link dev.lorastream.schemas.ops.GroupMembership#closeOptions}). */
    default boolean leaveGroupOnClose() { return true; }

    /** Which topics exist, for the reply topics requests name; mock clients trust every name. */
    default TopicDirectory topics() { return TopicDirectory.TRUSTING; }
}
