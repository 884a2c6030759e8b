package dev.lorastream.engine.adapters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Remembers the content hash of an adapter directory until one of its files changes: the hash is
 * kept with each file's size, modification time and file key (inode), and computed again when any
 * of them differs or a file appears or leaves. Reloading an evicted adapter then costs a few
 * {@code stat} calls instead of hashing its weights again. As git does with its index, a hash is
 * only remembered when every file was last modified at least {@link #SETTLED} before hashing
 * began: a file rewritten within the file system's timestamp granularity (a few ms) with the same
 * size could otherwise keep its old stamp. Bounded (least recently used entries go first);
 * thread-safe.
 */
final class ContentHashes {
    /** How long ago every file must have been modified for its hash to be remembered. */
    static final Duration SETTLED = Duration.ofSeconds(2);

    private record Stamp(List<Object> files, String hash) {}

    private final int capacity;
    private final Map<Path, Stamp> stamps;

    ContentHashes(int capacity) {
        this.capacity = capacity;
        this.stamps = new LinkedHashMap<>(16, 0.75f, true);
    }

    /**
     * The hash of {@code dir}'s {@code files}, from memory when their attributes are unchanged,
     * else from {@code compute}.
     */
    String hash(Path dir, String[] files, Function<Path, String> compute) {
        Path key = dir.toAbsolutePath().normalize();
        List<Object> now = attributes(key, files);
        synchronized (this) {
            Stamp s = stamps.get(key);
            if (s != null && now != null && s.files().equals(now)) return s.hash();
        }
        FileTime settled = FileTime.from(Instant.now().minus(SETTLED));
        String hash = compute.apply(dir);
        List<Object> after = attributes(key, files);
        if (now != null && now.equals(after) && allBefore(now, settled)) { // unchanged while hashed, and not just written
            synchronized (this) {
                stamps.put(key, new Stamp(now, hash));
                if (stamps.size() > capacity) stamps.remove(stamps.keySet().iterator().next());
            }
        }
        return hash;
    }

    private static boolean allBefore(List<Object> attributes, FileTime limit) {
        for (Object o : attributes) {
            if (o instanceof FileTime t && t.compareTo(limit) >= 0) return false;
        }
        return true;
    }

    /** Size, modification time and file key of each file (or a marker when absent); null when they cannot be read. */
    private static List<Object> attributes(Path dir, String[] files) {
        List<Object> out = new ArrayList<>(files.length * 3);
        for (String name : files) {
            try {
                BasicFileAttributes a = Files.readAttributes(dir.resolve(name), BasicFileAttributes.class);
                out.add(a.size());
                out.add(a.lastModifiedTime());
                out.add(Objects.requireNonNullElse(a.fileKey(), name));
            } catch (NoSuchFileException e) {
                out.add("absent:" + name);
            } catch (IOException e) {
                return null;
            }
        }
        return out;
    }
}
