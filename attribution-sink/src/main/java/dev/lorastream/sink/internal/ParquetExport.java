package dev.lorastream.sink.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Writes the store's outbox ({@link StoreSchema#EXPORT_PENDING}) to Parquet. The outbox rows are
 * inserted in the same DuckDB transaction as the events they name, so every committed row is
 * either already in a Parquet file or still pending; a part is written under a temporary name,
 * renamed into place, and only then removed from the outbox. A crash anywhere in between leaves
 * the part pending, and the next export rewrites the same file name with the same rows: the
 * Parquet set never holds a row twice and never loses a committed one.
 */
public final class ParquetExport {
    private final Connection connection;
    private final ParquetLayout layout;

    public ParquetExport(Connection connection, ParquetLayout layout) throws IOException {
        this.connection = connection;
        this.layout = layout;
        Files.createDirectories(layout.attributionDir());
        Files.createDirectories(layout.contributorDir());
        deleteTemporaryFiles(layout.attributionDir());
        deleteTemporaryFiles(layout.contributorDir());
    }

    /** Exports every pending part, oldest first; returns the attribution files written. */
    public List<Path> exportPending() throws SQLException, IOException {
        List<String> parts = new ArrayList<>();
        try (Statement s = connection.createStatement();
             ResultSet rs = s.executeQuery("SELECT DISTINCT part FROM " + StoreSchema.EXPORT_PENDING + " ORDER BY part")) {
            while (rs.next()) parts.add(rs.getString(1));
        }
        List<Path> written = new ArrayList<>();
        for (String part : parts) written.add(exportPart(part));
        return written;
    }

    private Path exportPart(String part) throws SQLException, IOException {
        String pending = "(SELECT event_id FROM " + StoreSchema.EXPORT_PENDING + " WHERE part = " + StoreSchema.literal(part) + ")";
        Path contributors = copy("SELECT * FROM " + StoreSchema.CONTRIBUTOR + " WHERE event_id IN " + pending
                + " ORDER BY event_id, contributor_id", layout.contributorDir(), part);
        Path events = copy("SELECT * FROM " + StoreSchema.ATTRIBUTION + " WHERE event_id IN " + pending
                + " ORDER BY source_partition, source_offset", layout.attributionDir(), part);
        try (PreparedStatement done = connection.prepareStatement("DELETE FROM " + StoreSchema.EXPORT_PENDING + " WHERE part = ?")) {
            done.setString(1, part);
            done.executeUpdate();
        }
        return events;
    }

    private Path copy(String query, Path dir, String part) throws SQLException, IOException {
        Path tmp = dir.resolve(part + ParquetLayout.TMP_SUFFIX);
        Path target = dir.resolve(part + ParquetLayout.SUFFIX);
        try (Statement s = connection.createStatement()) {
            s.execute("COPY (" + query + ") TO " + StoreSchema.literal(tmp.toAbsolutePath().toString()) + " (FORMAT PARQUET)");
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return target;
    }

    private static void deleteTemporaryFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(ParquetLayout.TMP_SUFFIX)).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
