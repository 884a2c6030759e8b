package dev.lorastream.engine.graph;

import dev.lorastream.engine.model.Checkpoint;
import dev.lorastream.engine.model.ModelConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The built decoder graph on disk, keyed by a SHA-256 of config.json, the weight files and the
 * graph builder's version: built once, then reused by every start with the same backbone.
 */
public final class GraphCache {
    /** Bump when the graph's design changes, so old cached graphs are not reused. */
    public static final String BUILDER_VERSION = "decoder-graph-v5";
    private static final Logger log = LoggerFactory.getLogger(GraphCache.class);

    private final Path cacheDir;
    private final long inlineLimitBytes;

    /**
     * @param cacheDir          where graphs are kept
     * @param inlineLimitBytes  above this many bytes of weights, initializers go to a side file
     */
    public GraphCache(Path cacheDir, long inlineLimitBytes) {
        this.cacheDir = cacheDir;
        this.inlineLimitBytes = inlineLimitBytes;
    }

    /** Content hash of a backbone directory (config.json and every weight file), hex. */
    public static String contentHash(Path modelDir) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(BUILDER_VERSION.getBytes(StandardCharsets.UTF_8));
            update(md, modelDir.resolve("config.json"));
            for (Path p : Checkpoint.weightFiles(modelDir)) update(md, p);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hash " + modelDir + ": " + e.getMessage(), e);
        }
    }

    private static void update(MessageDigest md, Path file) throws IOException {
        md.update(file.getFileName().toString().getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        md.update((byte) 0);
    }

    /** The cached float32 reference graph's path for this hash (it may not exist yet). */
    public Path pathFor(String hash) { return pathFor(hash, GraphSpec.reference(Precision.FP32)); }

    /** The cached graph's path for this hash and spec, e.g. {@code decoder-<hash>-fused-fp16-qkv.o-rope512.onnx}. */
    public Path pathFor(String hash, GraphSpec spec) {
        return cacheDir.resolve("decoder-" + hash.substring(0, 32) + "-" + spec.key() + ".onnx");
    }

    /** Returns the float32 reference graph for this backbone, building and writing it first when it is not cached. */
    public Path ensure(Path modelDir, ModelConfig config, String hash) {
        return ensure(modelDir, config, hash, GraphSpec.reference(Precision.FP32));
    }

    /** Returns the graph of this spec for this backbone, building and writing it first when it is not cached. */
    public Path ensure(Path modelDir, ModelConfig config, String hash, GraphSpec spec) {
        Path target = pathFor(hash, spec);
        if (Files.isRegularFile(target)) {
            log.info("Using cached decoder graph {}", target);
            return target;
        }
        long t0 = System.nanoTime();
        Path tmp = null;
        try (Checkpoint ckpt = Checkpoint.open(modelDir)) {
            Files.createDirectories(cacheDir);
            OnnxGraphBuilder graph = spec.build(config, ckpt);
            tmp = Files.createTempDirectory(cacheDir, "build-");
            Path built = tmp.resolve(target.getFileName());
            OnnxModelWriter.write(graph, built, inlineLimitBytes);
            Path data = built.resolveSibling(built.getFileName() + ".data");
            if (Files.exists(data)) move(data, target.resolveSibling(data.getFileName()));
            move(built, target); // last: the .onnx appearing marks a complete entry
            log.info("Built decoder graph {} ({} nodes) in {} ms", target, graph.nodes().size(), (System.nanoTime() - t0) / 1_000_000);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the decoder graph to " + cacheDir + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) deleteQuietly(tmp);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover temp dir is harmless
        }
    }

    /** Cached graphs in the cache dir. */
    public List<Path> entries() {
        if (!Files.isDirectory(cacheDir)) return List.of();
        try (Stream<Path> s = Files.list(cacheDir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".onnx")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
