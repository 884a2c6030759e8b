package dev.lorastream.router;

/** Why the router refused a record; written as DeadLetter.error_code and, for a known request, ErrorInfo.code. */
public enum ErrorCode {
    /** Not Confluent wire-format Avro, an unknown schema id, a null value, or a corrupt body. */
    MALFORMED_RECORD,
    /** Written with another event's schema, or an InferenceRequest schema the router cannot read. */
    WRONG_SCHEMA,
    /** A decoded request whose identity, prompt, adapter or reply topic is unusable. */
    INVALID_REQUEST,
    /** A decoded request whose generation parameters are out of range. */
    BAD_PARAMETER,
    /** The router failed on the record for a reason of its own; the record is still dead-lettered. */
    INTERNAL
}
