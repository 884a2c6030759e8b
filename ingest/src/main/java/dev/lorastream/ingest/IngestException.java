package dev.lorastream.ingest;

/** A request could not be sent or answered by the ingest client (not an ERROR response, which is a normal answer). */
public class IngestException extends RuntimeException {
    public IngestException(String message) { super(message); }
    public IngestException(String message, Throwable cause) { super(message, cause); }
}
