package dev.lorastream.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code ./pipeline bench-cpu [--out DIR] [--quick]}: the engine's CPU benchmark
 * ({@link CpuBenchmark}). Progress goes to stderr, the tables to stdout; with {@code --out} the
 * report is also written as {@code DIR/cpu.md} and {@code DIR/cpu.json} ({@code cpu-quick.*}
 * for {@code --quick}, which checks the harness in seconds and measures nothing worth keeping).
 * Exit codes: 0 done; 2 the command line is wrong; 1 the benchmark failed.
 */
@Command(name = "bench-cpu", mixinStandardHelpOptions = true,
        description = "The engine's CPU benchmark on seeded random models, no Kafka: one batch (backbone, one adapter, distinct adapters), then a sustained stream.")
public final class BenchCpuCommand implements Callable<Integer> {
    @Option(names = "--out", paramLabel = "DIR", description = "also write cpu.md and cpu.json (cpu-quick.* with --quick) into DIR")
    Path out;

    @Option(names = "--quick", description = "a harness check in seconds (measures nothing worth keeping)")
    boolean quick;

    private final PrintStream stdout;
    private final PrintStream stderr;

    BenchCpuCommand(PrintStream stdout, PrintStream stderr) {
        this.stdout = stdout;
        this.stderr = stderr;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        return new CommandLine(new BenchCpuCommand(out, err))
                .setOut(new PrintWriter(out, true, StandardCharsets.UTF_8))
                .setErr(new PrintWriter(err, true, StandardCharsets.UTF_8))
                .execute(args);
    }

    @Override
    public Integer call() {
        String command = "./pipeline bench-cpu" + (out != null ? " --out " + out : "") + (quick ? " --quick" : "");
        BenchReport report = CpuBenchmark.run(quick ? BenchPlan.quick() : BenchPlan.full(), command, stderr);
        stdout.print(ReportWriter.markdown(report, ""));
        if (out != null) {
            Path md = ReportWriter.write(report, out);
            stderr.println("bench-cpu: wrote " + md + " and " + md.resolveSibling(ReportWriter.baseName(report.plan()) + ".json"));
        }
        return 0;
    }
}
