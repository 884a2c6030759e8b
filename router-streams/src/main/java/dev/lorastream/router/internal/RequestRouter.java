package dev.lorastream.router.internal;

import dev.lorastream.router.RequestValidator;
import dev.lorastream.router.Violation;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.Limits;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Instant;
import java.util.List;

/**
 * Decodes each request, validates it, and forwards it to exactly one of: the routed sink (valid,
 * keyed by adapter), or the dead-letter sink plus, when the request id is known, the error-reply
 * sink. Nothing is dropped: every input record produces at least one output.
 */
public final class RequestRouter extends ContextualProcessor<byte[], byte[], String, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(RequestRouter.class);

    private final RequestDecoder decoder;
    private final RequestValidator validator;
    private final String routedSink;
    private final String deadLetterSink;
    private final String replySink;

    public RequestRouter(RequestDecoder decoder, RequestValidator validator, String routedSink, String deadLetterSink, String replySink) {
        this.decoder = decoder;
        this.validator = validator;
        this.routedSink = routedSink;
        this.deadLetterSink = deadLetterSink;
        this.replySink = replySink;
    }

    /** A request id (and, answering an oversized request, a tenant or adapter id) longer than this is not echoed in an answer. */
    static final int MAX_ECHOED_CHARS = 1024;

    @Override
    public void process(Record<byte[], byte[]> record) {
        RecordMetadata meta = context().recordMetadata()
                .orElseThrow(() -> new IllegalStateException("request record without topic/partition/offset metadata"));
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
                if (violations.isEmpty()) route(record, request);
                else reject(record, source, request, violations);
            }
        }
    }

    private void route(Record<byte[], byte[]> record, InferenceRequest request) {
        String adapterKey = request.getAdapterId() == null ? Topics.BASE_MODEL_KEY : request.getAdapterId();
        context().forward(record.withKey(adapterKey).withValue((Object) request), routedSink);
    }

    private void reject(Record<byte[], byte[]> record, SourceRecord source, InferenceRequest request, List<Violation> violations) {
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
        context().forward(record.withKey(requestId != null ? requestId : source.keyText()).withValue((Object) letter), deadLetterSink);
        if (requestId != null) {
            // the caller's own topic, unless it is what was wrong (illegal, reserved, or not on the cluster)
            boolean ownTopicUsable = violations.stream().noneMatch(v -> "reply_topic".equals(v.field()));
            String topic = request.getReplyTopic() != null && ownTopicUsable ? request.getReplyTopic() : Topics.RESPONSES;
            var response = Rejections.errorResponse(request, primary, reason, now);
            context().forward(record.withKey(requestId).withValue((Object) new AddressedResponse(topic, response)), replySink);
        }
    }
}
