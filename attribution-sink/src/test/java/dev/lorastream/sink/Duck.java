package dev.lorastream.sink;

import dev.lorastream.sink.internal.ParquetLayout;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** Direct SQL for test assertions: against a closed store's file, or over its Parquet files. */
final class Duck {
    private Duck() {}

    static long scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static List<String> strings(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }

    static Connection readOnly(Path dataDir) throws SQLException {
        Properties p = new Properties();
        p.setProperty("duckdb.read_only", "true");
        return DriverManager.getConnection("jdbc:duckdb:" + dataDir.resolve(AttributionStore.DB_FILE).toAbsolutePath(), p);
    }

    static Connection memory() throws SQLException {
        return DriverManager.getConnection("jdbc:duckdb:");
    }

    /** read_parquet over the finished files of the store's attribution (or contributor) Parquet directory. */
    static String parquet(Path dir) {
        return "read_parquet('" + ParquetLayout.glob(dir) + "')";
    }
}
