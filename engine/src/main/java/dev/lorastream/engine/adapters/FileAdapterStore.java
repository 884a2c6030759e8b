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

    @Override
    public String toString() { return "FileAdapterStore[" + root + "]"; }
}
