package dev.lorastream.launcher;

import dev.lorastream.schemas.cli.Cli;
import dev.lorastream.sink.UsageReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ./pipeline report [--data-dir DIR | --work-dir DIR]}: usage per adapter, tenant and contributor from the sink's store. */
@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Print usage per adapter, tenant and data contributor from the attribution sink's store.",
                "Reads a running sink's data too (its Parquet files)."})
final class ReportCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "the sink's data directory (default: the sink folder of the work dir)")
    Path dataDir;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "the work dir of a demo or up whose sink to read (default: that of the one that ran last, .work/up or .work/demo)")
    Path workDir;

    @Override
    public Integer call() {
        Path root = Path.of(System.getProperty("lorastream.root", ".")).toAbsolutePath();
        Path dir = dataDir != null ? dataDir
                : (workDir != null ? workDir : root.resolve(".work").resolve(latestRun(root))).resolve("sink");
        if (!Files.isDirectory(dir)) {
            throw Cli.usageError(spec, "no sink data in " + dir + " (run ./pipeline demo or up first, or pass --data-dir)");
        }
        spec.commandLine().getOut().println("report of " + dir);
        spec.commandLine().getOut().println(UsageReport.render(dir));
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** The stack that ran last: up or demo. */
    private static String latestRun(Path root) {
        Path up = root.resolve(".work/up/sink");
        Path demo = root.resolve(".work/demo/sink");
        if (!Files.exists(up)) return "demo";
        if (!Files.exists(demo)) return "up";
        return up.toFile().lastModified() >= demo.toFile().lastModified() ? "up" : "demo";
    }
}
