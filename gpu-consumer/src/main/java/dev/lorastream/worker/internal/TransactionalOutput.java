package dev.lorastream.worker.internal;

import dev.lorastream.schemas.Failures;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Writes one poll batch's output and its consumed offsets in a single Kafka transaction. Every
 * send failure, synchronous or reported later, is remembered per record and thrown as
 * {@link RecordFailures} before the commit, so a transaction with a lost record is never committed
 * and the caller knows which records to replace.
 */
public final class TransactionalOutput implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TransactionalOutput.class);

    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private final Producer<String, SpecificRecord> producer;
    private boolean open;

    public TransactionalOutput(Producer<String, SpecificRecord> producer) { this.producer = producer; }

    /** Registers the transactional id, fencing any older producer (a zombie) that used it. */
    public void init() { producer.initTransactions(); }

    /**
     * Sends {@code records} and the offsets in one transaction and commits it.
     *
     * @throws RecordFailures when some of the records could not be sent (the transaction is then
     *                        not committed: the caller aborts it)
     */
    public void commit(List<ProducerRecord<String, SpecificRecord>> records, Map<TopicPartition, OffsetAndMetadata> offsets,
                       ConsumerGroupMetadata group) {
        Map<Integer, Exception> failures = new ConcurrentSkipListMap<>();
        producer.beginTransaction();
        open = true;
        for (int i = 0; i < records.size(); i++) {
            int index = i;
            try {
                producer.send(records.get(i), (meta, e) -> {
                    if (e != null) failures.putIfAbsent(index, e);
                });
            } catch (KafkaException e) { // serialization, or the producer already in an error state
                if (isFatal(e)) throw e;
                failures.putIfAbsent(index, e);
            }
        }
        try {
            producer.sendOffsetsToTransaction(offsets, group);
            producer.flush();
        } catch (KafkaException e) {
            if (failures.isEmpty() || isFatal(e)) throw e;
            // the producer refuses transactional calls after a failed send: the failures say why
        }
        if (!failures.isEmpty()) throw new RecordFailures(records, failures);
        producer.commitTransaction();
        open = false;
    }

    /**
     * Some records of a transaction could not be sent. {@link #recordSpecific()} are the ones that
     * failed for what they are (too large, not serializable for their topic, a topic that refuses
     * them): sending them again would fail again, so they must be replaced. The others failed with
     * them (the transaction was doomed) or for a passing reason, and may be sent again.
     */
    public static final class RecordFailures extends KafkaException {
        private final Map<Integer, Exception> failures;

        RecordFailures(List<ProducerRecord<String, SpecificRecord>> records, Map<Integer, Exception> failures) {
            super(failures.size() + " of " + records.size() + " record(s) not sent; first: record " + failures.keySet().iterator().next()
                    + " to " + records.get(failures.keySet().iterator().next()).topic() + ": " + failures.values().iterator().next(),
                    failures.values().iterator().next());
            this.failures = Map.copyOf(failures);
        }

        /** Every failed record's index in the list given to {@link #commit} and its failure. */
        public Map<Integer, Exception> all() { return failures; }

        /** The failures that belong to their record: index → failure. */
        public Map<Integer, Exception> recordSpecific() {
            Map<Integer, Exception> own = new TreeMap<>();
            failures.forEach((i, e) -> {
                if (isRecordSpecific(e)) own.put(i, e);
            });
            return own;
        }
    }

    /**
     * Whether {@code e}, as a send reported it, is about the record itself. Only the failure itself
     * is looked at, not its causes: a send refused because an earlier one failed carries that
     * earlier failure as its cause.
     */
    static boolean isRecordSpecific(Exception e) {
        if (Failures.isRetriable(e)) return false;
        return e instanceof RecordTooLargeException || e instanceof RecordBatchTooLargeException
                || e instanceof SerializationException || e instanceof InvalidTopicException
                || e instanceof TopicAuthorizationException || e instanceof InvalidRecordException;
    }

    /** Whether a record failed because of its size (answered TOO_LARGE rather than INTERNAL). */
    static boolean isTooLarge(Exception e) {
        return e instanceof RecordTooLargeException || e instanceof RecordBatchTooLargeException;
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
