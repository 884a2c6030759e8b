package dev.lorastream.platform.internal;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;

/**
 * A small properties file that a service keeps next to its data (cluster id, ports), written
 * atomically so that a crash never leaves half a file.
 */
public final class StateFile {
    private final Path path;
    private final Properties values = new Properties();

    private StateFile(Path path) { this.path = path; }

    /** The file's values, or none when it does not exist yet. */
    public static StateFile load(Path path) {
        StateFile file = new StateFile(path);
        if (Files.exists(path)) {
            try (Reader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
                file.values.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + path, e);
            }
        }
        return file;
    }

    public String get(String key) { return values.getProperty(key); }

    /** The value as a port number, or 0 when missing or not a number. */
    public int port(String key) {
        String value = values.getProperty(key);
        if (value == null) return 0;
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    public StateFile set(String key, Object value) {
        values.setProperty(key, String.valueOf(value));
        return this;
    }

    public void save(String comment) {
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
            Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
            try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                values.store(out, comment);
            }
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + path, e);
        }
    }
}
