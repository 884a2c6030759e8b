package dev.lorastream.ingest;

/** A command line that cannot be run; the message names the flag at fault. */
public final class UsageException extends IllegalArgumentException {
    private final String flag;

    public UsageException(String flag, String message) {
        super(message);
        this.flag = flag;
    }

    /** The flag at fault (e.g. {@code --max-new-tokens}), or null when no single flag is. */
    public String flag() { return flag; }
}
