package dev.lorastream.ingest.http.auth;

/** A keys file that cannot be used, naming the file and the line at fault (0: the file as a whole). */
public final class KeyFileException extends RuntimeException {
    private final int line;

    public KeyFileException(String source, int line, String reason) {
        super(source + (line > 0 ? " line " + line : "") + ": " + reason);
        this.line = line;
    }

    public int line() { return line; }
}
