package dev.lorastream.bench;

import dev.lorastream.bench.BenchReport.StreamRun;
import dev.lorastream.bench.BenchReport.StreamSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The harness end to end on the quick plan (seconds); checks what it counts, never how fast anything ran. */
class CpuBenchmarkTest {
    @TempDir
    Path tmp;

    @Test
    void theQuickPlanRunsBothPartsAndCountsEveryRequest() {
        BenchPlan plan = BenchPlan.quick();

        BenchReport report = CpuBenchmark.run(plan, "test", new PrintStream(OutputStream.nullOutputStream()));

        assertThat(report.batch().runs()).hasSize(4 * plan.batchRounds());
        assertThat(report.batch().runs()).allSatisfy(r -> assertThat(r.tokens()).isEqualTo((long) plan.batchRows() * plan.batchNewTokens()));
        assertThat(report.batch().ratios()).extracting(BenchReport.Ratio::name).contains("multi/backbone", "single/backbone", "backbone/backbone-r1");
        assertThat(report.stream().runs()).hasSize(2 * plan.streamRounds());
        for (StreamRun r : report.stream().runs()) {
            assertThat(r.requests()).isEqualTo(plan.streamRequests());
            assertThat(r.cache().deviceHits() + r.cache().deviceMisses()).as("one device placement per request").isEqualTo(plan.streamRequests());
            assertThat(r.cache().loadFailures()).isZero();
        }
        StreamSummary many = report.stream().summaries().get(0), few = report.stream().summaries().get(1);
        assertThat(many.adapters()).isEqualTo(plan.manyAdapters());
        assertThat(many.cache().loads()).as("the many-adapter stream does not fit in the cache").isPositive();
        assertThat(few.cache().deviceMisses()).as("the few adapters stay on the device").isZero();
        assertThat(few.cache().loads()).isZero();
        assertThat(report.model().slotBytes()).isGreaterThan(report.model().adapterBytes());
        assertThat(report.stream().hostBytes()).isEqualTo(plan.hostAdapters() * report.model().adapterBytes());
        assertThat(report.stream().deviceBytes()).isEqualTo(plan.deviceAdapters() * report.model().slotBytes());
    }

    @Test
    void theQuickReportIsWrittenUnderItsOwnName() {
        BenchReport report = CpuBenchmark.run(BenchPlan.quick(), "test", new PrintStream(OutputStream.nullOutputStream()));

        Path md = ReportWriter.write(report, tmp);

        assertThat(md.getFileName().toString()).isEqualTo("cpu-quick.md");
        assertThat(tmp.resolve("cpu-quick.json")).isNotEmptyFile();
    }
}
