package dev.lorastream.engine.adapters;

import java.nio.file.Path;

/** An adapter refused before use, naming the file, the key (config key or tensor name) and the reason. */
public class AdapterValidationException extends RuntimeException {
    private final Path file;
    private final String key;
    private final String reason;

    public AdapterValidationException(Path file, String key, String reason) {
        super(file + (key == null ? "" : ": " + key) + ": " + reason);
        this.file = file;
        this.key = key;
        this.reason = reason;
    }

    public Path file() { return file; }

    /** The config key or tensor name at fault; null when the whole file is. */
    public String key() { return key; }

    public String reason() { return reason; }
}
