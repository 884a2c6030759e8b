package dev.lorastream.schemas;

import java.util.Optional;

/**
 * The pipeline's error vocabulary: the values of {@code ErrorInfo.code} (an ERROR response) and
 * {@code DeadLetter.error_code}. Each component writes {@link #name()}; readers of a code that came
 * over the wire use {@link #parse(String)}, since a newer producer may send a code this build lacks.
 */
public enum ErrorCode {
    /** The record cannot be read (not wire-format Avro, unknown schema id, null value, corrupt body; ingest: body not JSON). Router, worker, sink, ingest. */
    MALFORMED_RECORD,
    /** The record was written with another event's schema, or an InferenceRequest schema the reader cannot read. Router, worker, sink. */
    WRONG_SCHEMA,
    /** A request whose identity, prompt, adapter id, reply topic or shape is unusable. Router, worker, ingest. */
    INVALID_REQUEST,
    /** The adapter (model) the request names is not known: not in the adapter store or the catalog. Worker engine, ingest. */
    UNKNOWN_ADAPTER,
    /** The prompt plus max_new_tokens does not fit the backbone's context window. Worker engine. */
    PROMPT_TOO_LONG,
    /** A generation parameter (max_new_tokens, temperature, top_p, top_k, ...) is out of range. Router, worker engine, ingest. */
    BAD_PARAMETER,
    /** The adapter is known but its weights could not be loaded. Worker engine. */
    ADAPTER_LOAD_FAILED,
    /** The request's deadline passed before it was served (worker) or answered (ingest's HTTP timeout). Worker, ingest. */
    DEADLINE_EXCEEDED,
    /** The record is larger than the pipeline accepts ({@link Limits#MAX_REQUEST_BYTES}). Router, ingest. */
    TOO_LARGE,
    /** The caller cancelled the request (its HTTP client went away) while it was generated. Worker. */
    CANCELLED,
    /** The tenant is over its requests-per-second or tokens-per-minute limit (HTTP 429). Ingest. */
    RATE_LIMITED,
    /** The request_id was already used within the router's dedupe window (router.dedupe.window.ms). Router. */
    DUPLICATE_REQUEST_ID,
    /** The component failed on the record for a reason of its own, not the record's. Router, worker, ingest. */
    INTERNAL;

    /** The code spelled exactly as {@link #name()}, or empty for null or a code this build does not know. */
    public static Optional<ErrorCode> parse(String code) {
        if (code == null) return Optional.empty();
        for (ErrorCode c : values()) {
            if (c.name().equals(code)) return Optional.of(c);
        }
        return Optional.empty();
    }
}
