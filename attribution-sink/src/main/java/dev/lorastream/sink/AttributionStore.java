package dev.lorastream.sink;

import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.Contributor;
import dev.lorastream.sink.internal.DuckDb;
import dev.lorastream.sink.internal.ParquetExport;
import dev.lorastream.sink.internal.ParquetLayout;
import dev.lorastream.sink.internal.StoreSchema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The offline store: an embedded DuckDB file {@code <data dir>/attribution.duckdb} with the tables
 * {@code attribution} (one row per event, keyed by event id) and {@code attribution_contributor}
 * (the contributor shares of each event), plus, when enabled, a Parquet copy under
 * {@code <data dir>/parquet} (see {@link ParquetLayout}).
 *
 * <p>{@link #write} is idempotent: a batch is one DuckDB transaction, an event whose id is already
 * stored is skipped ({@code ON CONFLICT DO NOTHING}) together with its contributor rows, and only
 * the rows actually inserted are queued for Parquet (an outbox table in the same transaction,
 * exported after the commit; see {@link ParquetExport}). Replaying a batch therefore changes
 * neither the tables nor the Parquet set.
 *
 * <p>DuckDB lets one process write the file at a time; while this store is open, other processes
 * read the Parquet copy (as {@link UsageReport} does). Methods are synchronized: the sink's poll
 * thread writes while other threads may ask for {@link #rowCount()}.
 */
public final class AttributionStore implements AutoCloseable {
    public static final String DB_FILE = StoreSchema.DB_FILE;
    private static final Logger log = LoggerFactory.getLogger(AttributionStore.class);
    private static final Duration LOCK_WAIT = Duration.ofSeconds(10);

    private final Path dataDir;
    private final boolean parquetExport;
    private final Connection connection;
    private final ParquetExport export;
    private boolean closed;

    /** What one {@link #write} did. */
    public record WriteResult(int inserted, int duplicates, List<Path> parquetFiles) {}

    private AttributionStore(Path dataDir, boolean parquetExport, Connection connection) throws SQLException, IOException {
        this.dataDir = dataDir;
        this.parquetExport = parquetExport;
        this.connection = connection;
        try (Statement s = connection.createStatement()) {
            s.execute(StoreSchema.CREATE_ATTRIBUTION);
            s.execute(StoreSchema.CREATE_CONTRIBUTOR);
            s.execute(StoreSchema.CREATE_EXPORT_PENDING);
        }
        export = new ParquetExport(connection, ParquetLayout.in(dataDir));
        export.exportPending(); // parts a previous process committed but did not get to write
    }

    /**
     * Opens (creating if needed) the store in {@code dataDir}. Waits a few seconds if another
     * process briefly holds the file (a report reading it read-only), then fails.
     */
    public static AttributionStore open(Path dataDir, boolean parquetExport) {
        Connection connection = null;
        try {
            Files.createDirectories(dataDir);
            connection = DuckDb.openWritable(dataDir.resolve(DB_FILE), LOCK_WAIT);
            return new AttributionStore(dataDir, parquetExport, connection);
        } catch (SQLException | IOException e) {
            closeQuietly(connection);
            throw new StoreException("cannot open attribution store " + dataDir.resolve(DB_FILE) + ": " + e.getMessage(), e);
        }
    }

    public Path dataDir() { return dataDir; }

    public ParquetLayout parquetLayout() { return ParquetLayout.in(dataDir); }

    /**
     * Stores the events in one transaction, skipping those whose event id is already stored (or
     * appears earlier in the same batch). On failure nothing of the batch is stored.
     */
    public synchronized WriteResult write(List<SourcedEvent> events) {
        ensureOpen();
        if (events.isEmpty()) return new WriteResult(0, 0, List.of());
        int inserted = 0;
        String part = null;
        try {
            connection.setAutoCommit(false);
            // Prepared per batch: DuckDB closes a prepared statement whose execution failed.
            try (PreparedStatement insertEvent = connection.prepareStatement(StoreSchema.INSERT_ATTRIBUTION);
                 PreparedStatement insertContributor = connection.prepareStatement(StoreSchema.INSERT_CONTRIBUTOR);
                 PreparedStatement insertPending = connection.prepareStatement(StoreSchema.INSERT_EXPORT_PENDING)) {
                for (SourcedEvent sourced : events) {
                    if (!insert(insertEvent, insertContributor, sourced)) continue;
                    inserted++;
                    if (parquetExport) {
                        if (part == null) part = partName(sourced);
                        insertPending.setString(1, part);
                        insertPending.setString(2, sourced.event().getEventId());
                        insertPending.executeUpdate();
                    }
                }
                connection.commit();
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("cannot write a batch of " + events.size() + " attribution events to "
                    + dataDir.resolve(DB_FILE) + ": " + e.getMessage(), e);
        }
        List<Path> files = part == null ? List.of() : exportQuietly();
        return new WriteResult(inserted, events.size() - inserted, files);
    }

    /** Rows in the attribution table. */
    public synchronized long rowCount() {
        ensureOpen();
        try (Statement s = connection.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + StoreSchema.ATTRIBUTION)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new StoreException("cannot count attribution rows: " + e.getMessage(), e);
        }
    }

    /** Rows per request id, for the ids given that have any (an exactly-once check: every value should be 1). */
    public synchronized Map<String, Long> rowsPerRequest(Collection<String> requestIds) {
        ensureOpen();
        Map<String, Long> out = new TreeMap<>();
        if (requestIds.isEmpty()) return out;
        String marks = String.join(",", Collections.nCopies(requestIds.size(), "?"));
        try (PreparedStatement s = connection.prepareStatement("SELECT request_id, count(*) FROM " + StoreSchema.ATTRIBUTION
                + " WHERE request_id IN (" + marks + ") GROUP BY request_id")) {
            int i = 1;
            for (String id : requestIds) s.setString(i++, id);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) out.put(rs.getString(1), rs.getLong(2));
            }
            return out;
        } catch (SQLException e) {
            throw new StoreException("cannot count attribution rows per request: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        closeQuietly(connection);
    }

    private static boolean insert(PreparedStatement insertEvent, PreparedStatement insertContributor, SourcedEvent sourced)
            throws SQLException {
        AttributionEvent e = sourced.event();
        insertEvent.setString(1, e.getEventId());
        insertEvent.setString(2, e.getRequestId());
        insertEvent.setString(3, e.getTenant());
        setNullableString(insertEvent, 4, e.getAdapterId());
        setNullableString(insertEvent, 5, e.getAdapterVersion());
        insertEvent.setString(6, e.getBaseModel());
        insertEvent.setInt(7, e.getPromptTokens());
        insertEvent.setInt(8, e.getCompletionTokens());
        insertEvent.setDouble(9, e.getComputeMs());
        insertEvent.setString(10, e.getWorkerId());
        insertEvent.setString(11, e.getExecutionProvider());
        insertEvent.setLong(12, e.getServedAtMs().toEpochMilli());
        insertEvent.setInt(13, sourced.partition());
        insertEvent.setLong(14, sourced.offset());
        if (insertEvent.executeUpdate() == 0) return false; // already stored: a replay
        for (Contributor c : e.getContributors()) {
            insertContributor.setString(1, e.getEventId());
            insertContributor.setString(2, c.getContributorId());
            insertContributor.setDouble(3, c.getShare());
            insertContributor.executeUpdate();
        }
        return true;
    }

    private List<Path> exportQuietly() {
        try {
            return export.exportPending();
        } catch (SQLException | IOException e) {
            // The rows are committed and stay in the outbox; the next write (or the next open) exports them.
            log.warn("Parquet export under {} failed, will retry with the next batch: {}", parquetLayout().root(), e.toString());
            return List.of();
        }
    }

    private static String partName(SourcedEvent first) {
        return String.format("part-%013d-p%d-o%d", System.currentTimeMillis(), first.partition(), first.offset());
    }

    private static void setNullableString(PreparedStatement ps, int index, String value) throws SQLException {
        if (value == null) ps.setNull(index, Types.VARCHAR);
        else ps.setString(index, value);
    }

    private void rollbackQuietly() {
        try {
            connection.rollback();
        } catch (SQLException e) {
            log.warn("rollback of a failed attribution batch failed: {}", e.toString());
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("attribution store " + dataDir + " is closed");
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception e) {
            log.debug("close failed: {}", e.toString());
        }
    }
}
