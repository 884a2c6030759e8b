package dev.lorastream.launcher;

import dev.lorastream.worker.engine.bench.BenchPlan;
import dev.lorastream.worker.engine.bench.BenchReport;
import dev.lorastream.worker.engine.bench.CpuBenchmark;
import dev.lorastream.worker.engine.bench.ReportWriter;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * {@code ./pipeline bench-cpu [--out DIR] [--quick]}: the engine's CPU benchmark
 * ({@link CpuBenchmark}). Progress goes to stderr, the tables to stdout; with {@code --out} the
 * report is also written as {@code DIR/cpu.md} and {@code DIR/cpu.json} ({@code cpu-quick.*}
 * for {@code --quick}, which checks the harness in seconds and measures nothing worth keeping).
 * Exit codes: 0 done; 2 the command line is wrong; 1 the benchmark failed.
 */
final class BenchCpuCommand {
    static final String USAGE = "usage: ./pipeline bench-cpu [--out DIR] [--quick]";
    static final Set<String> VALUED = Set.of("out");
    static final Set<String> FLAGS = Set.of("quick", "help");

    private BenchCpuCommand() {}

    static int run(String[] args) { return run(args, System.out, System.err); }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options o;
        try {
            o = Options.parse("bench-cpu", args, VALUED, FLAGS, Map.of());
            if (!o.positional().isEmpty()) throw new Options.UsageException("bench-cpu: unexpected argument '" + o.positional().getFirst() + "'");
            if (o.has("out") && o.get("out").isBlank()) throw new Options.UsageException("bench-cpu: --out needs a directory");
        } catch (Options.UsageException e) {
            err.println(e.getMessage());
            err.println(USAGE);
            return 2;
        }
        if (o.flag("help")) { out.println(USAGE); return 0; }
        boolean quick = o.flag("quick");
        String command = "./pipeline bench-cpu" + (o.has("out") ? " --out " + o.get("out") : "") + (quick ? " --quick" : "");
        BenchReport report = CpuBenchmark.run(quick ? BenchPlan.quick() : BenchPlan.full(), command, err);
        out.print(ReportWriter.markdown(report, ""));
        if (o.has("out")) {
            Path md = ReportWriter.write(report, Path.of(o.get("out")));
            err.println("bench-cpu: wrote " + md + " and " + md.resolveSibling(ReportWriter.baseName(report.plan()) + ".json"));
        }
        return 0;
    }
}
