package dev.lorastream.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.bench.BenchReport.BatchPart;
import dev.lorastream.bench.BenchReport.BatchRun;
import dev.lorastream.bench.BenchReport.BatchSummary;
import dev.lorastream.bench.BenchReport.CacheFigures;
import dev.lorastream.bench.BenchReport.MissCosts;
import dev.lorastream.bench.BenchReport.ModelShape;
import dev.lorastream.bench.BenchReport.Ratio;
import dev.lorastream.bench.BenchReport.Spread;
import dev.lorastream.bench.BenchReport.StreamPart;
import dev.lorastream.bench.BenchReport.StreamRun;
import dev.lorastream.bench.BenchReport.StreamSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ReportWriterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static BenchReport report(String plan) {
        Machine machine = new Machine(2, "Test CPU", "Linux x86_64", "JDK 25", "1.28.0", 2L << 30);
        ModelShape shape = new ModelShape("llama", 512, 4, 8, 2, 64, 1376, 2048, 12_345_678, 16, BenchPlan.ATTENTION, 851_968, 2_301_952);
        BatchPart batch = new BatchPart(8, 32, 32, 2,
                List.of(new BatchSummary("multi", "8 rows on 8 different adapters", new Spread(700, 650, 750), new Spread(600, 550, 650), new Spread(60, 55, 65)),
                        new BatchSummary("backbone", "8 rows on the backbone", new Spread(800, 780, 820), new Spread(690, 680, 700), new Spread(55, 54, 56))),
                List.of(new Ratio("multi/backbone", "decode tokens/s", new Spread(0.875, 0.8, 0.9), 0.88)),
                List.of(new BatchRun("multi", 1, 8, 256, 400, 60, 340, 640, 729.4)));
        CacheFigures many = new CacheFigures(200, 760, 200 / 960.0, 290, 470, 290 / 760.0, 750, 470, 470, 0, 31.3, 32.7, 48.0, 89.3);
        CacheFigures few = new CacheFigures(960, 0, 1.0, 0, 0, Double.NaN, 0, 0, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        StreamPart stream = new StreamPart(1000, 5, 1.0, 8, 18_415_616, 50, 42_598_400, 320, 3, 160, 16, 8, 16, 48, 16, 48, 0.363, 0.601,
                List.of(new StreamSummary("many", 1000, new Spread(710, 696, 724), 7.1, 10.2, 0.8, 0.02, many),
                        new StreamSummary("few", 5, new Spread(771, 760, 806), 7.5, 9.8, 0.9, 0.02, few)),
                new Ratio("1000/5", "tokens/s", new Spread(0.916, 0.899, 0.921), 0.93),
                new MissCosts(100, 17.68, 29.22, 150.11, 23.32, 4.5, 6.25, 4.75),
                List.of(new StreamRun("many", 1, 320, 180, 10240, 14_000, 731.4, 1400, 11_000, 300, many)));
        return new BenchReport("./pipeline bench-cpu --out docs/benchmarks", plan, "2026-05-01T12:00:00Z", 137, machine, 2, 0.25, 2.5, shape, batch, stream);
    }

    @Test
    void theMarkdownHasTheCommandTheMachineTheModelAndBothTables() {
        String md = ReportWriter.markdown(report("full"), null);

        assertThat(md).contains("```\n./pipeline bench-cpu --out docs/benchmarks\n```");
        assertThat(md).contains("| 2 | Test CPU | Linux x86_64 | JDK 25 | 1.28.0 | 2 | 2048 MiB |");
        assertThat(md).contains("llama, hidden 512, 4 layers, 8 query heads on 2 KV heads (GQA, head dim 64)", "12.3 M parameters", "rank 16 on q_proj, k_proj, v_proj, o_proj");
        assertThat(md).contains("| multi | 8 rows on 8 different adapters | 700 | 650–750 | 600 | 60 |");
        assertThat(md).contains("| multi/backbone | decode tokens/s | 0.875 | 0.800–0.900 | 0.880 |");
        assertThat(md).contains("| 1000 adapters | 710 | 696–724 | 0.208 (200/960) | 0.382 (290/760) | 750 | 470 | 470 | 32.7 / 48.0 / 89.3 (31.3) |");
        assertThat(md).contains("| 5 adapters | 771 | 760–806 | 1.000 (960/960) | – | 0 | 0 | 0 | – |");
        assertThat(md).contains("| 1000/5 | tokens/s | 0.916 | 0.899–0.921 | 0.930 |");
        assertThat(md).contains("p50 17.68 ms, p90 29.22 ms, p99 150.11 ms, mean 23.32 ms", "device slot p50 4.50 ms, p90 6.25 ms, mean 4.75 ms");
        assertThat(md).contains("load average when the run started: 0.25; when it ended: 2.50");
        assertThat(md).contains("2 rounds", "3 rounds").doesNotContain("NaN");
        assertThat(md).endsWith(ReportWriter.READING + "\n\n(Not written yet: what limits each ratio, read from the figures above.)\n");
    }

    @Test
    void theJsonHoldsEveryFigureIncludingEachRound() throws Exception {
        JsonNode json = JSON.readTree(ReportWriter.json(report("full")));

        assertThat(json.path("machine").path("onnxRuntime").asText()).isEqualTo("1.28.0");
        assertThat(json.path("model").path("hidden").asInt()).isEqualTo(512);
        assertThat(json.path("batch").path("ratios").get(0).path("value").path("median").asDouble()).isEqualTo(0.875);
        assertThat(json.path("batch").path("runs").get(0).path("decodeTokensPerSecond").asDouble()).isEqualTo(729.4);
        assertThat(json.path("stream").path("ratio").path("name").asText()).isEqualTo("1000/5");
        assertThat(json.path("stream").path("summaries").get(0).path("cache").path("deviceHits").asLong()).isEqualTo(200);
        assertThat(json.path("stream").path("runs").get(0).path("passes").asLong()).isEqualTo(1400);
    }

    @Test
    void writingKeepsAHandWrittenReadingAndRewritesTheRest() throws Exception {
        Path md = tmp.resolve("cpu.md");
        Files.writeString(md, "# old figures\n\n| stale |\n\n" + ReportWriter.READING + "\n\nThe gather dominates.\n");

        Path written = ReportWriter.write(report("full"), tmp);

        assertThat(written).isEqualTo(md);
        String text = Files.readString(md);
        assertThat(text).doesNotContain("stale").contains("| 1000/5 | tokens/s | 0.916 |");
        assertThat(text).endsWith(ReportWriter.READING + "\n\nThe gather dominates.\n");
        assertThat(JSON.readTree(tmp.resolve("cpu.json").toFile()).path("plan").asText()).isEqualTo("full");
    }

    @Test
    void aPlanOtherThanTheFullOneWritesFilesOfItsOwn() {
        ReportWriter.write(report("quick"), tmp);

        assertThat(tmp.resolve("cpu-quick.md")).exists();
        assertThat(tmp.resolve("cpu-quick.json")).exists();
        assertThat(tmp.resolve("cpu.md")).doesNotExist();
    }

    @Test
    void theReadingSectionRunsFromItsHeadingToTheEnd() {
        assertThat(ReportWriter.readingOf("# t\n\n" + ReportWriter.READING + "\n\ntext\n\n")).isEqualTo(ReportWriter.READING + "\n\ntext\n");
        assertThat(ReportWriter.readingOf("# t\n\n## Readings galore\n")).isNull();
    }
}
