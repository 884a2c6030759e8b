package dev.lorastream.sink.internal;

import dev.lorastream.sink.UsageReport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A connection on which the tables {@code attribution} and {@code attribution_contributor} can be
 * queried for a report: the DuckDB file opened read-only when no process writes it, otherwise an
 * in-memory DuckDB with views over the Parquet files (which a running sink keeps up to date).
 */
public record ReportSource(Connection connection, UsageReport.Source source, String description) implements AutoCloseable {

    public static ReportSource open(Path dataDir) throws SQLException {
        if (!Files.isDirectory(dataDir)) throw new IllegalArgumentException("attribution data dir " + dataDir + " does not exist");
        Path db = dataDir.resolve(StoreSchema.DB_FILE);
        ParquetLayout parquet = ParquetLayout.in(dataDir);
        boolean haveParquet = ParquetLayout.hasFiles(parquet.attributionDir());
        if (Files.exists(db)) {
            try {
                return new ReportSource(DuckDb.openReadOnly(db), UsageReport.Source.DUCKDB, "DuckDB file " + db + " (read-only)");
            } catch (SQLException e) {
                if (!haveParquet) {
                    throw new IllegalStateException("cannot read " + db + " (" + firstLine(e) + ") and there are no Parquet files under "
                            + parquet.root() + " to fall back on (is the sink running with parquet.export=false?)", e);
                }
                String why = DuckDb.isLockConflict(e) ? "the DuckDB file is held by a running sink" : "the DuckDB file cannot be read: " + firstLine(e);
                return overParquet(parquet, UsageReport.Source.PARQUET, "Parquet files under " + parquet.root() + " (" + why + ")");
            }
        }
        if (haveParquet) return overParquet(parquet, UsageReport.Source.PARQUET, "Parquet files under " + parquet.root());
        return overParquet(parquet, UsageReport.Source.EMPTY, "no attribution data in " + dataDir + " yet");
    }

    private static ReportSource overParquet(ParquetLayout parquet, UsageReport.Source source, String description) throws SQLException {
        Connection c = DuckDb.openInMemory();
        try (Statement s = c.createStatement()) {
            s.execute(relation(StoreSchema.ATTRIBUTION, parquet.attributionDir(), StoreSchema.CREATE_ATTRIBUTION));
            s.execute(relation(StoreSchema.CONTRIBUTOR, parquet.contributorDir(), StoreSchema.CREATE_CONTRIBUTOR));
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return new ReportSource(c, source, description);
    }

    private static String relation(String name, Path dir, String createEmpty) {
        if (!ParquetLayout.hasFiles(dir)) return createEmpty;
        return "CREATE VIEW " + name + " AS SELECT * FROM read_parquet(" + StoreSchema.literal(ParquetLayout.glob(dir)) + ", union_by_name = true)";
    }

    private static String firstLine(SQLException e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    @Override
    public void close() throws SQLException { connection.close(); }
}
