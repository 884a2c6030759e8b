package dev.lorastream.engine.adapters.cache;

/** An adapter's load from the store failed; the cache remembers it and answers repeats with the same instance. */
public final class AdapterLoadException extends RuntimeException {
    private final String adapterId;
    private final String reason;

    public AdapterLoadException(String adapterId, String reason, Throwable cause) {
        super("adapter '" + adapterId + "' failed to load: " + reason, cause);
        this.adapterId = adapterId;
        this.reason = reason;
    }

    public String adapterId() { return adapterId; }

    /** Why, as the loader said it (file, key and reason for a refused adapter). */
    public String reason() { return reason; }
}
