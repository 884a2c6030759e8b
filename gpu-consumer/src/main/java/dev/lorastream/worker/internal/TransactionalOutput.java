package dev.lorastream.worker.internal;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writes one poll batch's output and its consumed offsets in a single Kafka transaction. An
 * asynchronous send failure is remembered and rethrown before the commit, so a transaction with
 * a lost record is never committed.
 */
public final class TransactionalOutput implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TransactionalOutput.class);

    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private final Producer<String, SpecificRecord> producer;
    private boolean open;

    public TransactionalOutput(Producer<String, SpecificRecord> producer) { this.producer = producer; }

    /** Registers the transactional id, fencing any older producer (a zombie) that used it. */
    public void init() { producer.initTransactions(); }

    public void commit(List<ProducerRecord<String, SpecificRecord>> records, Map<TopicPartition, OffsetAndMetadata> offsets,
                       ConsumerGroupMetadata group) {
        AtomicReference<Exception> sendFailure = new AtomicReference<>();
        producer.beginTransaction();
        open = true;
        for (ProducerRecord<String, SpecificRecord> record : records) {
            producer.send(record, (meta, e) -> {
                if (e != null) sendFailure.compareAndSet(null, e);
            });
        }
        producer.sendOffsetsToTransaction(offsets, group);
        producer.flush();
        Exception failed = sendFailure.get();
        if (failed != null) {
            throw failed instanceof KafkaException k ? k : new KafkaException("send failed: " + failed, failed);
        }
        producer.commitTransaction();
        open = false;
    }

    public boolean inTransaction() { return open; }

    /**
     * Aborts the open transaction, if any.
     *
     * @return false when the producer cannot be used any more (it must be closed and replaced)
     */
    public boolean abortIfOpen() {
        if (!open) return true;
        try {
            producer.abortTransaction();
            open = false;
            return true;
        } catch (KafkaException e) {
            if (isFatal(e)) throw e;
            log.warn("abort failed, the producer is unusable: {}", e.toString());
            return false;
        }
    }

    /**
     * The failure in {@code t}'s cause chain that ends this worker's right to write: another
     * producer with the same transactional id has taken over (fenced), another consumer with the
     * same group instance id has (static membership: fenced too), or the id is not authorized;
     * null when there is none and the failure may pass.
     */
    public static Throwable fatalCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ProducerFencedException || c instanceof FencedInstanceIdException
                    || c instanceof TransactionalIdAuthorizationException) return c;
        }
        return null;
    }

    static boolean isFatal(Throwable t) { return fatalCause(t) != null; }

    @Override
    public void close() {
        try {
            producer.close(CLOSE_TIMEOUT);
        } catch (RuntimeException e) {
            log.warn("closing the transactional producer: {}", e.toString());
        }
    }
}
