package dev.lorastream.sink;

/** The attribution store could not be opened, written or read; the batch that was being written is rolled back. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) { super(message, cause); }
}
