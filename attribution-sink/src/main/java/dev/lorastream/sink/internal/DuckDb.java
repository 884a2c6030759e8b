package dev.lorastream.sink.internal;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

/** Opening DuckDB connections: the store's file (read-write, or read-only for reports) and in-memory ones. */
public final class DuckDb {
    private static final String LOCK_CONFLICT = "Could not set lock";
    /** Same process, other access mode: the in-process instance is open read-write and a report asked read-only, or the reverse. */
    private static final String CONFIG_CONFLICT = "different configuration";

    private DuckDb() {}

    /**
     * Opens the file read-write. DuckDB lets one process write a file, and a process that reads it
     * read-only holds a shared lock for that while; a conflict is retried until {@code wait} is up.
     */
    public static Connection openWritable(Path file, Duration wait) throws SQLException {
        long deadline = System.nanoTime() + wait.toNanos();
        long backoffMs = 50;
        while (true) {
            try {
                return DriverManager.getConnection("jdbc:duckdb:" + file.toAbsolutePath());
            } catch (SQLException e) {
                if (!isLockConflict(e) || System.nanoTime() + backoffMs * 1_000_000 > deadline) throw e;
                sleep(backoffMs);
                backoffMs = Math.min(backoffMs * 2, 1_000);
            }
        }
    }

    /** Opens the file read-only; fails (no retry) when another process holds it for writing. */
    public static Connection openReadOnly(Path file) throws SQLException {
        Properties props = new Properties();
        props.setProperty("duckdb.read_only", "true");
        return DriverManager.getConnection("jdbc:duckdb:" + file.toAbsolutePath(), props);
    }

    public static Connection openInMemory() throws SQLException {
        return DriverManager.getConnection("jdbc:duckdb:");
    }

    /** Whether the file is held by another process, or by this one in the other access mode. */
    public static boolean isLockConflict(SQLException e) {
        String message = e.getMessage();
        return message != null && (message.contains(LOCK_CONFLICT) || message.contains(CONFIG_CONFLICT));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
