package dev.lorastream.sink.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Where the Parquet copy of the store lives: {@code <data dir>/parquet/attribution/part-*.parquet}
 * and {@code <data dir>/parquet/attribution_contributor/part-*.parquet}, one pair of files per
 * committed batch, each row in exactly one file. Files are written under a {@code .tmp} name and
 * renamed, so a reader never sees half a file.
 */
public record ParquetLayout(Path root) {
    public static final String SUFFIX = ".parquet";
    public static final String TMP_SUFFIX = ".parquet.tmp";

    public static ParquetLayout in(Path dataDir) { return new ParquetLayout(dataDir.resolve("parquet")); }

    public Path attributionDir() { return root.resolve(StoreSchema.ATTRIBUTION); }

    public Path contributorDir() { return root.resolve(StoreSchema.CONTRIBUTOR); }

    /** The glob DuckDB's read_parquet takes for every finished file of a directory. */
    public static String glob(Path dir) { return dir.toAbsolutePath().resolve("*" + SUFFIX).toString(); }

    /** Whether the directory holds at least one finished Parquet file. */
    public static boolean hasFiles(Path dir) { return count(dir) > 0; }

    /** Finished Parquet files in the directory (temporary files not counted). */
    public static long count(Path dir) {
        if (!Files.isDirectory(dir)) return 0;
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(SUFFIX)).count();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }
}
