package dev.lorastream.ingest.http.auth;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The keys file and the {@link ApiKeys} last read from it. Read at construction (a missing or broken file is refused
 * then), and again whenever its modification time or size changes, checked every {@code pollInterval} once
 * {@link #start()}ed. A reload that fails (a broken line, the file gone, unreadable) keeps the keys read before and logs
 * the reason with the line; {@link #lastError()} has it until a reload succeeds. Files over {@value #MAX_BYTES} bytes
 * are refused. Thread-safe.
 */
public final class KeyFile implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KeyFile.class);
    public static final int MAX_BYTES = 4 << 20;
    static final String HEADER = """
            # lorastream API keys (./pipeline keys add): one key per line, the SHA-256 of the key and what it may do; never the key.
            # sha256:<64 hex>  <tenant>  [models=<model>,<model>...|*]  [rps=<requests/s>]  [tpm=<tokens/min>]  [admin]  [# comment]
            """;

    private record Stamp(FileTime modified, long size) {}

    private final Path path;
    private final Duration pollInterval;
    private volatile ApiKeys keys;
    private volatile Stamp stamp;
    private volatile String lastError;
    private ScheduledExecutorService poller;

    /** @throws KeyFileException when the file is missing, too large, unreadable or has a broken line */
    public KeyFile(Path path, Duration pollInterval) {
        this.path = Objects.requireNonNull(path, "path");
        this.pollInterval = pollInterval;
        Stamp now = stampOf();
        this.keys = read();
        this.stamp = now;
    }

    public Path path() { return path; }

    /** The keys read last. */
    public ApiKeys keys() { return keys; }

    /** Why the last reload failed (the keys from before it still serve), or empty when it succeeded. */
    public Optional<String> lastError() { return Optional.ofNullable(lastError); }

    /** Starts checking the file for changes every poll interval. */
    public synchronized void start() {
        if (poller != null) return;
        poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "http-keys-file");
            t.setDaemon(true);
            return t;
        });
        long ms = Math.max(1, pollInterval.toMillis());
        poller.scheduleWithFixedDelay(this::reloadIfChanged, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Reads the file again when its modification time or size changed since the last read; true when new keys were taken. */
    public synchronized boolean reloadIfChanged() {
        try {
            Stamp now = stampOf();
            if (now.equals(stamp)) return false;
            ApiKeys fresh = read();
            keys = fresh;
            stamp = now;
            if (lastError != null) log.info("keys file {} is usable again", path);
            lastError = null;
            log.info("reloaded keys file {}: {} key(s)", path, fresh.size());
            return true;
        } catch (KeyFileException | UncheckedIOException e) {
            String message = e.getMessage();
            if (!message.equals(lastError)) {
                log.error("keys file not reloaded, the {} key(s) read before still serve: {}", keys.size(), message);
            }
            lastError = message;
            return false;
        } catch (RuntimeException e) {
            log.error("keys file {} not reloaded", path, e);
            lastError = e.toString();
            return false;
        }
    }

    private Stamp stampOf() {
        try {
            return new Stamp(Files.getLastModifiedTime(path), Files.size(path));
        } catch (IOException e) {
            throw new KeyFileException(path.toString(), 0, "cannot be read: " + e);
        }
    }

    private ApiKeys read() {
        try {
            long size = Files.size(path);
            if (size > MAX_BYTES) throw new KeyFileException(path.toString(), 0, "is " + size + " bytes, more than the " + MAX_BYTES + " a keys file may have");
            return ApiKeys.parse(Files.readAllLines(path, StandardCharsets.UTF_8), path.toString());
        } catch (IOException e) {
            throw new KeyFileException(path.toString(), 0, "cannot be read: " + e);
        }
    }

    @Override
    public synchronized void close() {
        if (poller != null) poller.shutdownNow();
        poller = null;
    }

    /**
     * Appends one line to the keys file (created, readable by its owner only where the file system allows, with a header
     * when missing), under a file lock; refused with a {@link KeyFileException} when the file with the line would not
     * parse. Returns the line's number.
     */
    public static int append(Path path, String line) {
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            if (!Files.exists(path)) {
                try {
                    Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                } catch (UnsupportedOperationException e) {
                    Files.createFile(path);
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    // made meanwhile
                }
            }
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
                 FileLock lock = channel.lock()) {
                String existing = new String(Files.readAllBytes(path), StandardCharsets.UTF_8);
                String prefix = existing.isEmpty() ? HEADER : existing.endsWith("\n") ? "" : "\n";
                List<String> lines = new ArrayList<>(List.of((existing + prefix + line).split("\n", -1)));
                ApiKeys.parse(lines, path.toString());
                channel.position(channel.size());
                channel.write(ByteBuffer.wrap((prefix + line + "\n").getBytes(StandardCharsets.UTF_8)));
                channel.force(true);
                return (int) (existing + prefix).lines().count() + 1;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the keys file " + path + ": " + e.getMessage(), e);
        }
    }
}
