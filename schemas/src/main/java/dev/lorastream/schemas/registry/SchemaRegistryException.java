package dev.lorastream.schemas.registry;

/** A registry call failed; {@link #status()} is the HTTP status (0 when the registry was unreachable). */
public class SchemaRegistryException extends RuntimeException {
    private final int status;
    private final int errorCode;

    public SchemaRegistryException(String message, int status, int errorCode, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.errorCode = errorCode;
    }

    public int status() { return status; }

    public int errorCode() { return errorCode; }

    /** HTTP 409: the schema is incompatible with the subject's earlier versions. */
    public boolean isIncompatible() { return status == 409; }

    /** Network failures and 5xx answers may succeed when tried again; 4xx answers will not. */
    public boolean isRetriable() { return status == 0 || status >= 500; }
}
