package dev.lorastream.router.internal;

import dev.lorastream.schemas.Failures;

import dev.lorastream.router.RouterConfig;
import dev.lorastream.router.Violation;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.registry.RememberingSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Kafka Streams' deserialization and processing exception handler for the router: records that
 * fail outside the router's own checks are not skipped silently. A retriable failure (registry or
 * broker unreachable) fails the thread so the record is retried from the last commit; any other
 * failure is logged with task, topic, partition and offset and dead-lettered to inference.dlq as a
 * DeadLetter with the original bytes (MALFORMED_RECORD for deserialization, INTERNAL for
 * processing, production and serialization on the way out), and processing continues.
 *
 * <p>The registry comes from {@value #REGISTRY_CLIENT_CONFIG} (a {@link SchemaRegistryClient}
 * instance, as RouterApp and tests pass it) or else {@link RouterConfig#SCHEMA_REGISTRY_URL}.
 */
public final class DeadLetterExceptionHandler implements DeserializationExceptionHandler, ProcessingExceptionHandler, ProductionExceptionHandler {
    public static final String REGISTRY_CLIENT_CONFIG = "lorastream.router.registry.client";
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterExceptionHandler.class);

    private AvroSerializer<DeadLetter> serializer;

    @Override
    public void configure(Map<String, ?> configs) {
        Object client = configs.get(REGISTRY_CLIENT_CONFIG);
        SchemaRegistryClient registry;
        if (client instanceof SchemaRegistryClient given) {
            registry = given;
        } else {
            Object url = configs.get(RouterConfig.SCHEMA_REGISTRY_URL);
            if (url == null) {
                throw new IllegalStateException(getClass().getSimpleName() + " needs " + REGISTRY_CLIENT_CONFIG + " or "
                        + RouterConfig.SCHEMA_REGISTRY_URL + " in the Streams configuration to write dead letters");
            }
            registry = RememberingSchemaRegistryClient.connect(url.toString());
        }
        serializer = new AvroSerializer<>(registry, false);
    }

    @Override
    public DeserializationExceptionHandler.Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record,
                                                                Exception exception) {
        List<ProducerRecord<byte[], byte[]>> letters = handle("deserialization", context, record.key(), record.value(),
                ErrorCode.MALFORMED_RECORD, exception);
        return letters == null ? DeserializationExceptionHandler.Response.fail() : DeserializationExceptionHandler.Response.resume(letters);
    }

    @Override
    public ProcessingExceptionHandler.Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        List<ProducerRecord<byte[], byte[]>> letters = handle("processing", context, context.sourceRawKey(), context.sourceRawValue(),
                ErrorCode.INTERNAL, exception);
        return letters == null ? ProcessingExceptionHandler.Response.fail() : ProcessingExceptionHandler.Response.resume(letters);
    }

    /**
     * A record the router could not write (a size over the producer's or broker's limit, a topic that
     * refuses it): dead-lettered with the source record's bounded bytes, and routing goes on. The router
     * refuses oversized requests before it forwards anything; this is the last line, so that no record
     * stops the stream thread.
     */
    @Override
    public ProductionExceptionHandler.Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        List<ProducerRecord<byte[], byte[]>> letters = handle("production to " + record.topic(), context, context.sourceRawKey(),
                context.sourceRawValue(), ErrorCode.INTERNAL, exception);
        return letters == null ? ProductionExceptionHandler.Response.fail() : ProductionExceptionHandler.Response.resume(letters);
    }

    /** A record that could not be serialized for its topic (the registry refused its schema there): dead-lettered, and routing goes on. */
    @Override
    public ProductionExceptionHandler.Response handleSerializationError(ErrorHandlerContext context, ProducerRecord record, Exception exception,
                                                                        SerializationExceptionOrigin origin) {
        List<ProducerRecord<byte[], byte[]>> letters = handle("serialization for " + record.topic(), context, context.sourceRawKey(),
                context.sourceRawValue(), ErrorCode.INTERNAL, exception);
        return letters == null ? ProductionExceptionHandler.Response.fail() : ProductionExceptionHandler.Response.resume(letters);
    }

    /** The dead letters to write and continue, or null to fail the thread. */
    private List<ProducerRecord<byte[], byte[]>> handle(String stage, ErrorHandlerContext context, byte[] key, byte[] value,
                                                        ErrorCode code, Exception exception) {
        if (Failures.isRetriable(exception)) {
            LOG.warn("{} failed on a retriable error; failing the thread so the record is retried: task={} topic={} partition={}"
                            + " offset={} node={}: {}", stage, context.taskId(), context.topic(), context.partition(),
                    context.offset(), context.processorNodeId(), exception.toString());
            return null;
        }
        LOG.error("{} failed; dead-lettering the record: task={} topic={} partition={} offset={} node={}", stage,
                context.taskId(), context.topic(), context.partition(), context.offset(), context.processorNodeId(), exception);
        SourceRecord source = SourceRecord.of(context.topic(), context.partition(), context.offset(), key, value, context.headers());
        String reason = stage + " failed in node " + context.processorNodeId() + ": " + exception;
        DeadLetter letter = Rejections.deadLetter(source, null, new Violation(null, code, reason), reason, Instant.now());
        try {
            byte[] letterBytes = serializer.serialize(Topics.DLQ, letter);
            return List.of(new ProducerRecord<>(Topics.DLQ, null, source.key(), letterBytes, SourceRecord.producerHeaders(context.headers())));
        } catch (RuntimeException e) {
            LOG.error("cannot write the dead letter for {}; failing the thread so the record is retried", source.position(), e);
            return null;
        }
    }
}
