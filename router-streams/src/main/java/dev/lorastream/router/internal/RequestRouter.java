package dev.lorastream.router.internal;

import dev.lorastream.router.RequestValidator;
import dev.lorastream.router.Violation;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.Limits;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.schemas.topic.TopicDirectory;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

/**
 * Decodes each request, validates it, and forwards it to exactly one of: the routed sink (valid,
 * keyed by adapter), or the dead-letter sink plus, when the request id is known, the error-reply
 * sink. Nothing is dropped: every input record produces at least one output.
 * <p>
 * A valid request is routed once per request id within the dedupe window ({@link RequestIds}): a later
 * request with the same id is not routed again; it is dead-lettered ({@code DUPLICATE_REQUEST_ID}, field
 * {@code request_id}) and, when another tenant sent it, that caller is also answered with the error (the
 * first tenant's caller is not: its answer is the one of record). For that every record of one request id must
 * reach the same task: a record keyed by its request id on the partition the default partitioner gives that key
 * is looked up at once; any other (another key, no key, another partition) goes through
 * {@link Topics#REQUESTS_BY_ID} first, keyed by its request id, with its original bytes and position in headers.
 */
public final class RequestRouter extends ContextualProcessor<byte[], byte[], String, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(RequestRouter.class);

    private final RequestDecoder decoder;
    private final RequestValidator validator;
    private final TopicDirectory topics;
    private final Duration dedupeWindow;
    private final String routedSink;
    private final String deadLetterSink;
    private final String replySink;
    private final String byIdSink;
    private RequestIds requestIds;

    /**
     * @param topics        how many partitions inference.requests has (unknown: every request goes through the by-id topic)
     * @param dedupeWindow  how long a request id is remembered ({@link RequestIds#STORE} must be connected)
     */
    public RequestRouter(RequestDecoder decoder, RequestValidator validator, TopicDirectory topics, Duration dedupeWindow,
                         String routedSink, String deadLetterSink, String replySink, String byIdSink) {
        this.decoder = decoder;
        this.validator = validator;
        this.topics = topics;
        this.dedupeWindow = dedupeWindow;
        this.routedSink = routedSink;
        this.deadLetterSink = deadLetterSink;
        this.replySink = replySink;
        this.byIdSink = byIdSink;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        super.init(context);
        requestIds = new RequestIds(context.getStateStore(RequestIds.STORE), dedupeWindow);
    }

    /** A request id (and, answering an oversized request, a tenant or adapter id) longer than this is not echoed in an answer. */
    static final int MAX_ECHOED_CHARS = 1024;

    @Override
    public void process(Record<byte[], byte[]> record) {
        RecordMetadata meta = context().recordMetadata()
                .orElseThrow(() -> new IllegalStateException("request record without topic/partition/offset metadata"));
        if (meta.topic().equals(Topics.REQUESTS_BY_ID)) {
            fromById(record, meta);
            return;
        }
        SourceRecord source = new SourceRecord(meta.topic(), meta.partition(), meta.offset(), record.key(), record.value());
        if (source.value() != null && source.value().length > Limits.MAX_REQUEST_BYTES) {
            // refused before anything is forwarded: a routed copy, or an answer echoing it, could exceed what the producer may send
            // (under exactly-once a send that fails for size aborts the transaction, and the record would be read again and again)
            Violation tooLarge = new Violation("request", ErrorCode.TOO_LARGE, "is " + source.value().length
                    + " bytes; the pipeline takes requests of at most " + Limits.MAX_REQUEST_BYTES + " bytes (schemas.Limits)");
            InferenceRequest request = decoder.decode(source.topic(), source.value()) instanceof RequestDecoder.Decoded(InferenceRequest r) ? r : null;
            reject(record, source, request, List.of(tooLarge));
            return;
        }
        switch (decoder.decode(source.topic(), source.value())) {
            case RequestDecoder.Refused(Violation v) -> reject(record, source, null, List.of(v));
            case RequestDecoder.Decoded(InferenceRequest request) -> {
                List<Violation> violations = validator.validate(request);
                if (!violations.isEmpty()) reject(record, source, request, violations);
                else if (placedByRequestId(record.key(), request.getRequestId(), meta.partition())) dedupeAndRoute(record, source, request);
                else toById(record, source, request);
            }
        }
    }

    /**
     * Whether every record of this request id that the default partitioner placed is on this record's partition: its key
     * is its request id and it is on the partition murmur2 gives that key (when the partition count is known).
     */
    private boolean placedByRequestId(byte[] key, String requestId, int partition) {
        if (key == null || !Arrays.equals(key, requestId.getBytes(StandardCharsets.UTF_8))) return false;
        OptionalInt partitions = topics.partitions(Topics.REQUESTS);
        return partitions.isPresent() && Utils.toPositive(Utils.murmur2(key)) % partitions.getAsInt() == partition;
    }

    /** Sends a valid request whose record is not placed by its id to the by-id topic, keyed by the id, its origin in headers. */
    private void toById(Record<byte[], byte[]> record, SourceRecord source, InferenceRequest request) {
        context().forward(new Record<>(request.getRequestId(), (Object) record.value(), record.timestamp(), source.withOrigin(record.headers())), byIdSink);
    }

    /** A request this router validated and sent to the by-id topic: deduplicated here, answered as from where it was first read. */
    private void fromById(Record<byte[], byte[]> record, RecordMetadata meta) {
        SourceRecord source = SourceRecord.of(meta.topic(), meta.partition(), meta.offset(), record.key(), record.value(), record.headers());
        switch (decoder.decode(meta.topic(), record.value())) {
            case RequestDecoder.Refused(Violation v) -> reject(record, source, null, List.of(v));
            case RequestDecoder.Decoded(InferenceRequest request) -> dedupeAndRoute(record, source, request);
        }
    }

    /** The record's headers as its producer wrote them (without this router's origin headers). */
    private static Headers callerHeaders(Record<byte[], byte[]> record) { return SourceRecord.producerHeaders(record.headers()); }

    private void dedupeAndRoute(Record<byte[], byte[]> record, SourceRecord source, InferenceRequest request) {
        long now = context().currentSystemTimeMs();
        var earlier = requestIds.claim(request.getRequestId(), request.getTenant(), now);
        if (earlier.isEmpty()) {
            route(record, request);
            return;
        }
        boolean sameTenant = earlier.get().tenant().equals(request.getTenant());
        String reason = "'" + abbreviate(request.getRequestId()) + "' was already used " + (sameTenant ? "by this tenant" : "by another tenant")
                + " at " + Instant.ofEpochMilli(earlier.get().atMs()) + ", within the router's dedupe window of " + requestIds.window().toSeconds()
                + " s (" + dev.lorastream.router.RouterConfig.DEDUPE_WINDOW_MS + "); "
                + (sameTenant ? "a duplicate is not served again: the first request's answer is its answer" : "choose a fresh request id");
        reject(record, source, request, List.of(new Violation("request_id", ErrorCode.DUPLICATE_REQUEST_ID, reason)), !sameTenant);
    }

    private static String abbreviate(String s) { return s.length() <= 64 ? s : s.substring(0, 61) + "..."; }

    private void route(Record<byte[], byte[]> record, InferenceRequest request) {
        String adapterKey = request.getAdapterId() == null ? Topics.BASE_MODEL_KEY : request.getAdapterId();
        context().forward(new Record<>(adapterKey, (Object) request, record.timestamp(), callerHeaders(record)), routedSink);
    }

    private void reject(Record<byte[], byte[]> record, SourceRecord source, InferenceRequest request, List<Violation> violations) {
        reject(record, source, request, violations, true);
    }

    /** @param answer whether the caller (when its request id is known) is also sent the error */
    private void reject(Record<byte[], byte[]> record, SourceRecord source, InferenceRequest request, List<Violation> violations, boolean answer) {
        Violation primary = violations.getFirst();
        String reason = Rejections.reason(violations);
        Instant now = Instant.ofEpochMilli(context().currentSystemTimeMs());
        String requestId = request == null || request.getRequestId() == null || request.getRequestId().isBlank()
                || request.getRequestId().length() > MAX_ECHOED_CHARS ? null : request.getRequestId();
        DeadLetter letter = Rejections.deadLetter(source, requestId, primary, reason, now);
        if (requestId != null) MDC.put("request_id", requestId);
        if (request != null && request.getAdapterId() != null) MDC.put("adapter_id", request.getAdapterId());
        try {
            LOG.warn("dead-lettering record: task={} topic={} partition={} offset={} request_id={} code={} field={} reason={}",
                    context().taskId(), source.topic(), source.partition(), source.offset(), requestId,
                    primary.code(), primary.field(), reason);
        } finally {
            MDC.remove("request_id");
            MDC.remove("adapter_id");
        }
        context().forward(new Record<>(requestId != null ? requestId : source.keyText(), (Object) letter, record.timestamp(), callerHeaders(record)),
                deadLetterSink);
        if (requestId != null && answer) {
            // the caller's own topic, unless it is what was wrong (illegal, reserved, or not on the cluster)
            boolean ownTopicUsable = violations.stream().noneMatch(v -> "reply_topic".equals(v.field()));
            String topic = request.getReplyTopic() != null && ownTopicUsable ? request.getReplyTopic() : Topics.RESPONSES;
            var response = Rejections.errorResponse(request, primary, reason, now);
            context().forward(new Record<>(requestId, (Object) new AddressedResponse(topic, response), record.timestamp(), callerHeaders(record)),
                    replySink);
        }
    }
}
