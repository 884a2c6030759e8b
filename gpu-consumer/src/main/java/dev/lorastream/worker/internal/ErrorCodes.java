package dev.lorastream.worker.internal;

/** The error codes of ErrorInfo.code and DeadLetter.error_code that the worker emits. */
public final class ErrorCodes {
    public static final String INVALID_REQUEST = "INVALID_REQUEST";
    public static final String DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED";
    public static final String MALFORMED_RECORD = "MALFORMED_RECORD";
    public static final String WRONG_SCHEMA = "WRONG_SCHEMA";
    public static final String INTERNAL = "INTERNAL";

    /** DeadLetter.component of everything the worker dead-letters. */
    public static final String COMPONENT = "worker";

    private ErrorCodes() {}
}
