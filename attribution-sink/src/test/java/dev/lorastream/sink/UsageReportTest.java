package dev.lorastream.sink;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.lorastream.sink.Events.event;
import static dev.lorastream.sink.Events.sourced;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UsageReportTest {
    @TempDir Path dir;

    /** Two dermatology requests (alice 0.7, bob 0.3), one cardiology (carol 1.0), two on the plain backbone. */
    private void writeKnownEvents(boolean parquet) {
        try (AttributionStore store = AttributionStore.open(dir, parquet)) {
            store.write(sourced(0,
                    event("d1", "acme", "dermatology", 10, 20, 4.0, "alice", 0.7, "bob", 0.3),
                    event("d2", "acme", "dermatology", 30, 10, 6.0, "alice", 0.7, "bob", 0.3),
                    event("c1", "globex", "cardiology", 5, 5, 2.0, "carol", 1.0)));
            store.write(sourced(3,
                    event("b1", "globex", null, 7, 3, 1.0),
                    event("b2", "acme", null, 3, 7, 3.0),
                    event("d1", "acme", "dermatology", 10, 20, 4.0, "alice", 0.7, "bob", 0.3))); // a replay
        }
    }

    @Test
    void reportsUsagePerAdapterTenantAndContributorWithTotals() {
        writeKnownEvents(true);

        String report = UsageReport.render(dir);

        assertThat(report).contains("5 attribution rows");
        assertThat(row(report, "Per adapter", "(backbone)")).containsExactly("(backbone)", "2", "10", "10", "4.0");
        assertThat(row(report, "Per adapter", "cardiology")).containsExactly("cardiology", "1", "5", "5", "2.0");
        assertThat(row(report, "Per adapter", "dermatology")).containsExactly("dermatology", "2", "40", "30", "10.0");
        assertThat(row(report, "Per adapter", "total")).containsExactly("total", "5", "55", "45", "16.0");

        assertThat(row(report, "Per tenant", "acme")).containsExactly("acme", "3", "43", "37", "13.0");
        assertThat(row(report, "Per tenant", "globex")).containsExactly("globex", "2", "12", "8", "3.0");
        assertThat(row(report, "Per tenant", "total")).containsExactly("total", "5", "55", "45", "16.0");

        assertThat(row(report, "Per data contributor", "alice")).containsExactly("alice", "1.40", "28.00", "21.00", "7.00");
        assertThat(row(report, "Per data contributor", "bob")).containsExactly("bob", "0.60", "12.00", "9.00", "3.00");
        assertThat(row(report, "Per data contributor", "carol")).containsExactly("carol", "1.00", "5.00", "5.00", "2.00");
        assertThat(row(report, "Per data contributor", "total")).containsExactly("total", "3.00", "45.00", "35.00", "12.00");
    }

    @Test
    void summaryCountsRowsAndRequestsPerAdapterWithTheBackboneNamed() {
        writeKnownEvents(true);

        UsageReport.Summary summary = UsageReport.summary(dir);

        assertThat(summary.rows()).isEqualTo(5);
        assertThat(summary.adapters()).isEqualTo(3);
        assertThat(summary.requestsByAdapter()).isEqualTo(Map.of("(backbone)", 2L, "cardiology", 1L, "dermatology", 2L));
    }

    @Test
    void readsTheDuckDbFileReadOnlyWhenNoSinkHoldsItAndReleasesIt() {
        writeKnownEvents(true);

        UsageReport.Summary summary = UsageReport.summary(dir);
        String report = UsageReport.render(dir);

        assertThat(summary.source()).isEqualTo(UsageReport.Source.DUCKDB);
        assertThat(report).contains("source: DuckDB file");
        try (AttributionStore store = AttributionStore.open(dir, true)) { // a sink can start afterwards
            assertThat(store.rowCount()).isEqualTo(5);
        }
    }

    @Test
    void whileAnotherProcessHoldsTheFileTheReportReadsParquetWithTheSameFigures() throws Exception {
        writeKnownEvents(true);
        String fromDuckDb = UsageReport.render(dir);

        try (Holder ignored = Holder.start(dir, true)) {
            UsageReport.Summary summary = UsageReport.summary(dir);
            String fromParquet = UsageReport.render(dir);

            assertThat(summary.source()).isEqualTo(UsageReport.Source.PARQUET);
            assertThat(summary.rows()).isEqualTo(5);
            assertThat(fromParquet).contains("source: Parquet files").contains("held by a running sink");
            assertThat(withoutSourceLine(fromParquet)).isEqualTo(withoutSourceLine(fromDuckDb));
        }
    }

    @Test
    void whileThisProcessHoldsTheFileTheReportReadsParquet() {
        writeKnownEvents(true);

        try (AttributionStore store = AttributionStore.open(dir, true)) {
            UsageReport.Summary summary = UsageReport.summary(dir);

            assertThat(summary.source()).isEqualTo(UsageReport.Source.PARQUET);
            assertThat(summary.rows()).isEqualTo(store.rowCount());
        }
    }

    @Test
    void aHeldFileWithoutParquetFilesFailsSayingWhy() throws Exception {
        writeKnownEvents(false);

        try (Holder ignored = Holder.start(dir, false)) {
            assertThatThrownBy(() -> UsageReport.render(dir))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("no Parquet files")
                    .hasMessageContaining("parquet.export=false");
        }
    }

    @Test
    void anEmptyDataDirReportsZeros() {
        UsageReport.Summary summary = UsageReport.summary(dir);
        String report = UsageReport.render(dir);

        assertThat(summary.rows()).isZero();
        assertThat(summary.source()).isEqualTo(UsageReport.Source.EMPTY);
        assertThat(report).contains("0 attribution rows");
        assertThat(row(report, "Per adapter", "total")).containsExactly("total", "0", "0", "0", "0.0");
        assertThat(row(report, "Per data contributor", "total")).containsExactly("total", "0.00", "0.00", "0.00", "0.00");
    }

    @Test
    void aMissingDataDirIsRefused() {
        assertThatThrownBy(() -> UsageReport.render(dir.resolve("nope")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nope");
    }

    /** The cells of the row starting with {@code key} in the section titled {@code section}. */
    static List<String> row(String report, String section, String key) {
        String[] lines = report.split("\n");
        int start = -1;
        for (int i = 0; i < lines.length; i++) if (lines[i].startsWith(section)) start = i;
        assertThat(start).as("section " + section + " in\n" + report).isNotNegative();
        for (int i = start + 1; i < lines.length && !lines[i].isBlank(); i++) {
            List<String> cells = Arrays.asList(lines[i].trim().split("\\s{2,}"));
            if (cells.getFirst().equals(key)) return cells;
        }
        throw new AssertionError("no row " + key + " in section " + section + " of\n" + report);
    }

    private static String withoutSourceLine(String report) {
        return report.replaceFirst("source: [^\n]*\n", "");
    }

    /** A child JVM holding the store read-write, as a running sink process does. */
    record Holder(Process process) implements AutoCloseable {
        static Holder start(Path dir, boolean parquet) throws Exception {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    HoldStore.class.getName(), dir.toString(), Boolean.toString(parquet))
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (Exception e) {
                    return null;
                }
            }).get(60, TimeUnit.SECONDS);
            if (line == null || !line.startsWith(HoldStore.READY)) {
                p.destroyForcibly();
                throw new AssertionError("child JVM did not open the store: " + line);
            }
            return new Holder(p);
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly();
        }
    }
}
