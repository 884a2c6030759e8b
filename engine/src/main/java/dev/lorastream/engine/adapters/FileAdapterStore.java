package dev.lorastream.engine.adapters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Adapters as subdirectories of one directory, named by adapter id (hidden entries skipped). */
public final class FileAdapterStore implements AdapterStore {
    /** A single path segment that is not hidden (so no '..' and no separators). */
    private static final Pattern NAME = Pattern.compile("[^./\\\\][^/\\\\]*");
    private final Path root;

    public FileAdapterStore(Path root) { this.root = root; }

    @Override
    public List<String> ids() {
        if (root == null || !Files.isDirectory(root)) return List.of();
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list adapters in " + root + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Path directory(String id) { return root.resolve(id); }

    @Override
    public boolean contains(String id) {
        if (root == null || id == null || !NAME.matcher(id).matches()) return false;
        return Files.isDirectory(root.resolve(id));
    }

    /**
     * Copies the source's regular files (not its subfolders: a PEFT directory is flat) into a hidden
     * folder beside the others, writes the sidecar there, then renames it into place; an older
     * version is renamed aside first and deleted after.
     */
    @Override
    public synchronized void put(String id, Path source, AdapterMetadata metadata) {
        if (root == null) throw new UnsupportedOperationException("the store has no directory");
        if (id == null || !NAME.matcher(id).matches()) throw new IllegalArgumentException("'" + id + "' cannot name a folder of " + root);
        long n = System.nanoTime();
        Path incoming = root.resolve(".incoming-" + id + "-" + n), old = root.resolve(".old-" + id + "-" + n), target = root.resolve(id);
        try {
            Files.createDirectories(incoming);
            try (Stream<Path> files = Files.list(source)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    if (f.getFileName().toString().equals(AdapterMetadata.FILE)) continue; // the sidecar given here replaces the source's
                    Files.copy(f, incoming.resolve(f.getFileName()));
                }
            }
            metadata.write(incoming);
            boolean replacing = Files.isDirectory(target);
            if (replacing) Files.move(target, old, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.move(incoming, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            if (replacing) deleteTree(old);
        } catch (IOException e) {
            deleteQuietly(incoming);
            throw new UncheckedIOException("cannot put adapter '" + id + "' into " + root + ": " + e.getMessage(), e);
        }
    }

    /** Renames the adapter's folder aside (it leaves {@link #ids()} at once), then deletes it. */
    @Override
    public synchronized boolean remove(String id) {
        if (!contains(id)) return false;
        Path gone = root.resolve(".removed-" + id + "-" + System.nanoTime());
        try {
            Files.move(root.resolve(id), gone, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            deleteTree(gone);
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove adapter '" + id + "' from " + root + ": " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            if (Files.exists(dir)) deleteTree(dir);
        } catch (IOException ignored) {
            // a hidden leftover is skipped by ids()
        }
    }

    /** The folder the store keeps its adapters in. */
    public Path root() { return root; }

    @Override
    public String toString() { return "FileAdapterStore[" + root + "]"; }
}
