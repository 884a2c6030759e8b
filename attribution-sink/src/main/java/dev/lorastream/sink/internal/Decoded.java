package dev.lorastream.sink.internal;

import dev.lorastream.schemas.AttributionEvent;

/** The outcome of decoding one consumed record: an event to store, or a reason to dead-letter it. */
public sealed interface Decoded {
    record Accepted(AttributionEvent event) implements Decoded {}

    /** {@code requestId} and {@code field} are null when unknown / not about one field. */
    record Rejected(String errorCode, String field, String reason, String requestId) implements Decoded {}
}
