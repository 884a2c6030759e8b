package dev.lorastream.sink;

import dev.lorastream.sink.internal.ReportSource;
import dev.lorastream.sink.internal.TextTable;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Usage per adapter, per tenant and per data contributor, from a sink's data dir. Reads the DuckDB
 * file read-only when no process writes it; while a sink holds it (DuckDB allows one writer
 * process), reads the Parquet copy instead, which lags the file by at most the batch being
 * exported. Contributor figures are weighted by share: a request to an adapter whose contributors
 * hold 0.7 and 0.3 counts 0.7 and 0.3 requests (and tokens and compute time) to them. Requests
 * served by the plain backbone show as {@value #BACKBONE} and have no contributors.
 */
public final class UsageReport {
    public static final String BACKBONE = "(backbone)";

    /** Where the figures came from. */
    public enum Source { DUCKDB, PARQUET, EMPTY }

    /** The headline figures, for programmatic checks: rows, distinct adapters (backbone included) and requests per adapter. */
    public record Summary(long rows, int adapters, Map<String, Long> requestsByAdapter, Source source) {
        public Summary {
            requestsByAdapter = Collections.unmodifiableMap(new LinkedHashMap<>(requestsByAdapter)); // sorted by adapter
        }
    }

    private record Usage(String key, double requests, double promptTokens, double completionTokens, double computeMs) {}

    private static final String ADAPTER = "coalesce(adapter_id, '" + BACKBONE + "')";
    private static final String SUMS = "count(*), coalesce(sum(prompt_tokens), 0)::BIGINT, coalesce(sum(completion_tokens), 0)::BIGINT, coalesce(sum(compute_ms), 0)";

    private UsageReport() {}

    public static String render(Path dataDir) {
        try (ReportSource source = ReportSource.open(dataDir)) {
            Connection c = source.connection();
            StringBuilder out = new StringBuilder();
            Usage total = query(c, "SELECT 'total', " + SUMS + " FROM attribution").getFirst();
            out.append("Attribution usage report\n");
            out.append("source: ").append(source.description()).append('\n');
            out.append(String.format(Locale.ROOT, "%d attribution rows%s%n%n", (long) total.requests(), period(c)));

            out.append("Per adapter\n");
            out.append(table("adapter", query(c, "SELECT " + ADAPTER + ", " + SUMS + " FROM attribution GROUP BY 1 ORDER BY 1"), total, false));
            out.append("\nPer tenant\n");
            out.append(table("tenant", query(c, "SELECT tenant, " + SUMS + " FROM attribution GROUP BY 1 ORDER BY 1"), total, false));

            List<Usage> contributors = query(c, """
                    SELECT k.contributor_id, coalesce(sum(k.share), 0), coalesce(sum(k.share * a.prompt_tokens), 0),
                           coalesce(sum(k.share * a.completion_tokens), 0), coalesce(sum(k.share * a.compute_ms), 0)
                    FROM attribution_contributor k JOIN attribution a USING (event_id)
                    GROUP BY 1 ORDER BY 1""");
            out.append("\nPer data contributor (requests, tokens and compute ms weighted by share)\n");
            out.append(table("contributor", contributors, sum(contributors), true));
            return out.toString();
        } catch (SQLException e) {
            throw new StoreException("cannot compute the usage report for " + dataDir + ": " + e.getMessage(), e);
        }
    }

    public static Summary summary(Path dataDir) {
        try (ReportSource source = ReportSource.open(dataDir)) {
            Map<String, Long> perAdapter = new LinkedHashMap<>();
            long rows = 0;
            for (Usage u : query(source.connection(), "SELECT " + ADAPTER + ", " + SUMS + " FROM attribution GROUP BY 1 ORDER BY 1")) {
                perAdapter.put(u.key(), (long) u.requests());
                rows += (long) u.requests();
            }
            return new Summary(rows, perAdapter.size(), perAdapter, source.source());
        } catch (SQLException e) {
            throw new StoreException("cannot summarize attribution data in " + dataDir + ": " + e.getMessage(), e);
        }
    }

    private static List<Usage> query(Connection c, String sql) throws SQLException {
        List<Usage> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(new Usage(rs.getString(1), rs.getDouble(2), rs.getDouble(3), rs.getDouble(4), rs.getDouble(5)));
            }
        }
        return out;
    }

    private static String period(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT strftime(min(served_at), '%Y-%m-%d %H:%M:%S'), strftime(max(served_at), '%Y-%m-%d %H:%M:%S') FROM attribution")) {
            rs.next();
            return rs.getString(1) == null ? "" : ", served " + rs.getString(1) + " to " + rs.getString(2) + " UTC";
        }
    }

    private static Usage sum(List<Usage> rows) {
        double r = 0, p = 0, k = 0, ms = 0;
        for (Usage u : rows) {
            r += u.requests();
            p += u.promptTokens();
            k += u.completionTokens();
            ms += u.computeMs();
        }
        return new Usage("total", r, p, k, ms);
    }

    private static String table(String keyHeader, List<Usage> rows, Usage total, boolean weighted) {
        TextTable t = new TextTable(keyHeader, "requests", "prompt tokens", "completion tokens", "compute ms");
        for (Usage u : rows) t.row(cells(u.key(), u, weighted));
        t.totals(cells("total", total, weighted));
        return t.render();
    }

    private static List<String> cells(String key, Usage u, boolean weighted) {
        String count = weighted ? "%.2f" : "%.0f";
        return List.of(key, fmt(count, u.requests()), fmt(count, u.promptTokens()), fmt(count, u.completionTokens()),
                fmt(weighted ? "%.2f" : "%.1f", u.computeMs()));
    }

    private static String fmt(String pattern, double value) { return String.format(Locale.ROOT, pattern, value); }
}
