package dev.lorastream.worker.internal;

import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.Limits;
import dev.lorastream.schemas.StopSequences;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.InvalidTaskException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns the records of one poll into the records to publish: decodes each one (dead-lettering what
 * cannot be decoded), answers expired and invalid requests with errors, runs the valid ones
 * through the engine in batches of at most {@code maxBatch}, and builds a response and an
 * attribution event per served request. Publishes nothing itself: the caller writes the
 * {@link OutputBatch} in one transaction with the consumed offsets.
 */
public final class BatchProcessor {
    private static final Logger log = LoggerFactory.getLogger(BatchProcessor.class);

    /** The replacement at which a record whose output cannot be published publishes nothing ({@link #unpublishable}). */
    public static final int MAX_REPAIRS = 3;

    private final InferenceEngine engine;
    private final RequestDecoder decoder;
    private final TaskFactory tasks;
    private final ResponseFactory responses;
    private final AttributionFactory attribution;
    private final DeadLetters deadLetters;
    private final GenerationRunner runner;
    private final int maxBatch;
    private final Clock clock;
    private final WorkerMetrics metrics;

    public BatchProcessor(InferenceEngine engine, RequestDecoder decoder, TaskFactory tasks, ResponseFactory responses,
                          AttributionFactory attribution, DeadLetters deadLetters, GenerationRunner runner,
                          int maxBatch, Clock clock, WorkerMetrics metrics) {
        this.engine = engine;
        this.decoder = decoder;
        this.tasks = tasks;
        this.responses = responses;
        this.attribution = attribution;
        this.deadLetters = deadLetters;
        this.runner = runner;
        this.maxBatch = maxBatch;
        this.clock = clock;
        this.metrics = metrics;
    }

    /** A decoded, unexpired, valid request and its engine task. */
    public record Admitted(ConsumerRecord<byte[], byte[]> record, InferenceRequest request, GenerationTask task) {}

    public int maxBatch() { return maxBatch; }

    public GenerationRunner runner() { return runner; }

    public Clock clock() { return clock; }

    public WorkerMetrics metrics() { return metrics; }

    public OutputBatch process(Iterable<ConsumerRecord<byte[], byte[]>> records) throws InterruptedException {
        OutputBatch out = new OutputBatch();
        List<Admitted> admitted = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            Admitted a = admit(record, out);
            if (a != null) admitted.add(a);
        }
        try {
            for (int from = 0; from < admitted.size(); from += maxBatch) {
                List<Admitted> batch = admitted.subList(from, Math.min(admitted.size(), from + maxBatch));
                metrics.load(batch.size(), admitted.size() - from - batch.size());
                serve(batch, out);
            }
        } finally {
            metrics.load(0, 0);
        }
        return out;
    }

    /**
     * Decodes and checks one record: a record that cannot be served (poison bytes, expired,
     * invalid) is answered into {@code out} at once and null returned; otherwise the task to run.
     */
    public Admitted admit(ConsumerRecord<byte[], byte[]> record, OutputBatch out) {
        RequestDecoder.Result decoded = decoder.decode(record);
        if (decoded instanceof RequestDecoder.Refused r) {
            log.warn("dead-lettering {}-{}@{}: {} {}", record.topic(), record.partition(), record.offset(), r.code(), r.reason());
            out.deadLetter(deadLetters.of(record, null, r.code(), null, r.reason()));
            return null;
        }
        InferenceRequest request = ((RequestDecoder.Decoded) decoded).request();
        if (record.value().length > Limits.MAX_REQUEST_BYTES) { // written straight to the routed topic, past the router's check
            refuse(record, request, ErrorCode.TOO_LARGE.name(), "request", "is " + record.value().length
                    + " bytes; the pipeline takes requests of at most " + Limits.MAX_REQUEST_BYTES + " bytes (schemas.Limits)", out);
            return null;
        }
        try (LogContext ignored = LogContext.of(request.getRequestId(), request.getAdapterId())) {
            Instant deadline = request.getDeadlineMs();
            if (deadline != null && clock.instant().isAfter(deadline)) {
                stopped(request, ErrorCode.DEADLINE_EXCEEDED.name(), "deadline_ms", "deadline " + deadline + " passed before the request could be served", out);
                return null;
            }
            try {
                GenerationTask task = tasks.create(request);
                engine.validate(task);
                return new Admitted(record, request, task);
            } catch (InvalidTaskException e) {
                refuse(record, request, e.code(), e.field(), e.getMessage(), out);
            } catch (RuntimeException e) {
                refuse(record, request, ErrorCode.INTERNAL.name(), null, "validation failed: " + e, out);
            }
            return null;
        }
    }

    private void serve(List<Admitted> batch, OutputBatch out) throws InterruptedException {
        Instant started = clock.instant();
        metrics.batchRun();
        GenerationRunner.Result result = runner.run(batch.stream().map(Admitted::task).toList());
        if (result instanceof GenerationRunner.Failed f) {
            metrics.engineFailure();
            String reason = "engine failed the batch after " + f.attempts() + " attempt(s): " + f.cause();
            for (Admitted a : batch) {
                try (LogContext ignored = LogContext.of(a.request().getRequestId(), a.request().getAdapterId())) {
                    refuse(a.record(), a.request(), ErrorCode.INTERNAL.name(), null, reason, out);
                }
            }
            return;
        }
        List<Generation> generations = ((GenerationRunner.Generated) result).generations();
        for (int i = 0; i < batch.size(); i++) {
            served(batch.get(i), generations.get(i), started, out);
        }
    }

    /** The response and attribution of one served request (an INTERNAL refusal when its tokens cannot be decoded). */
    public void served(Admitted a, Generation g, Instant started, OutputBatch out) {
        try (LogContext ignored = LogContext.of(a.request().getRequestId(), a.request().getAdapterId())) {
            String text;
            try {
                text = engine.decode(g.tokenIds());
            } catch (RuntimeException e) {
                refuse(a.record(), a.request(), ErrorCode.INTERNAL.name(), null, "generated tokens cannot be decoded: " + e, out);
                return;
            }
            List<String> stop = a.request().getParams().getStop();
            int at = stop.isEmpty() ? -1 : StopSequences.firstIndex(text, stop);
            if (at >= 0) {
                // the text ends before the stop sequence (not returned, as OpenAI's), whoever ended the generation
                text = text.substring(0, at);
                g = new Generation(g.requestId(), g.tokenIds(), "stop", g.prefillMs(), g.decodeMs(), g.computeMs());
            }
            int promptTokens = a.task().promptIds().length;
            out.response(responses.topicFor(a.request()), responses.ok(a.request(), promptTokens, g, text, started));
            out.attribution(AttributionFactory.keyFor(a.request().getAdapterId()), attribution.event(a.request(), promptTokens, g));
            log.debug("served {} prompt + {} generated tokens ({})", promptTokens, g.tokenIds().length, g.finishReason());
        }
    }

    /**
     * An error response, and no dead letter, for a request stopped for its caller's sake (cancelled,
     * or its deadline passed before or while it was generated): nothing was wrong with the record.
     */
    public void stopped(InferenceRequest request, String code, String field, String reason, OutputBatch out) {
        try (LogContext ignored = LogContext.of(request.getRequestId(), request.getAdapterId())) {
            log.info("stopped: {} {} {}", code, field == null ? "" : field, reason);
            out.response(responses.topicFor(request), responses.error(request, code, field, reason));
        }
    }

    /** An error response and a dead letter for a request the engine refused or failed. */
    public void failed(Admitted a, String code, String field, String reason, OutputBatch out) {
        try (LogContext ignored = LogContext.of(a.request().getRequestId(), a.request().getAdapterId())) {
            refuse(a.record(), a.request(), code, field, reason, out);
        }
    }

    /**
     * What a record publishes instead when some of its output could not be published (too large,
     * not serializable for its topic, a topic that refuses it): on the first repair an error response
     * ({@code TOO_LARGE} when size was the reason, else {@code INTERNAL}) and a dead letter, nothing
     * of the original output (no attribution: the caller was not served); when that failed too, the
     * dead letter alone; after that nothing, so that no record can stop its partition.
     *
     * @param repair 1 for the first replacement of this record's output, 2 for the second, ...
     */
    public OutputBatch unpublishable(ConsumerRecord<byte[], byte[]> record,
                                     Map<ProducerRecord<String, SpecificRecord>, Exception> failed, int repair) {
        Map.Entry<ProducerRecord<String, SpecificRecord>, Exception> first = failed.entrySet().iterator().next();
        Exception cause = first.getValue();
        String code = TransactionalOutput.isTooLarge(cause) ? ErrorCode.TOO_LARGE.name() : ErrorCode.INTERNAL.name();
        String reason = "the " + what(first.getKey().value()) + " for topic " + first.getKey().topic() + " could not be published: " + cause;
        OutputBatch out = new OutputBatch();
        metrics.unpublishable();
        InferenceRequest request = decoder.decode(record) instanceof RequestDecoder.Decoded d ? d.request() : null;
        try (LogContext ignored = request == null ? LogContext.of(null, null) : LogContext.of(request.getRequestId(), request.getAdapterId())) {
            if (repair >= MAX_REPAIRS) {
                log.error("nothing of {}-{}@{} can be published ({}); committing past it", record.topic(), record.partition(), record.offset(), reason);
                metrics.dropped();
                return out;
            }
            log.warn("{}-{}@{}: {}; answering {} instead{}", record.topic(), record.partition(), record.offset(), reason, code,
                    repair == 2 ? " (dead letter only: the error answer failed too)" : "");
            String requestId = request == null ? null : request.getRequestId();
            if (repair == 1 && requestId != null && !requestId.isBlank()) {
                out.response(responses.topicFor(request), responses.error(request, code, null, reason));
            }
            out.deadLetter(deadLetters.of(record, requestId, code, null, reason));
            return out;
        }
    }

    private static String what(Object value) {
        if (value instanceof dev.lorastream.schemas.InferenceResponse) return "response";
        if (value instanceof dev.lorastream.schemas.AttributionEvent) return "attribution event";
        if (value instanceof dev.lorastream.schemas.DeadLetter) return "dead letter";
        return value == null ? "record" : value.getClass().getSimpleName();
    }

    /** An error response to the caller (when it can be addressed) and a dead letter. */
    private void refuse(ConsumerRecord<byte[], byte[]> record, InferenceRequest request, String code, String field,
                        String message, OutputBatch out) {
        log.info("refused: {} {} {}", code, field == null ? "" : field, message);
        String requestId = request.getRequestId();
        if (requestId != null && !requestId.isBlank()) {
            out.response(responses.topicFor(request), responses.error(request, code, field, message));
        }
        out.deadLetter(deadLetters.of(record, requestId, code, field, message));
    }
}
