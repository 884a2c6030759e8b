package dev.lorastream.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** ./pipeline bench-cpu in-process: the command line, and the quick plan end to end (no timing checked). */
class BenchCpuCommandTest {
    @TempDir
    Path tmp;

    private record Result(int exit, String out, String err) {}

    private static Result bench(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int exit = BenchCpuCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anUnknownOptionIsAUsageError() {
        Result r = bench("--rounds", "3");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown options: '--rounds'", "Usage: bench-cpu");
    }

    @Test
    void aStrayArgumentIsAUsageError() {
        Result r = bench("quick");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Unmatched argument at index 0: 'quick'");
    }

    @Test
    void helpPrintsTheUsage() {
        Result r = bench("--help");

        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Usage: bench-cpu", "--out=DIR", "--quick");
    }

    @Test
    void theQuickRunPrintsTheTablesAndWritesItsOwnReport() {
        Path out = tmp.resolve("benchmarks");

        Result r = bench("--quick", "--out", out.toString());

        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("## A. One batch", "| multi/backbone | decode tokens/s |", "## B. ", "```\n./pipeline bench-cpu --out " + out + " --quick\n```");
        assertThat(out.resolve("cpu-quick.md")).isNotEmptyFile();
        assertThat(out.resolve("cpu-quick.json")).isNotEmptyFile();
        assertThat(out.resolve("cpu.md")).doesNotExist();
    }
}
