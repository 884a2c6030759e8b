package dev.lorastream.launcher;

import dev.lorastream.sink.UsageReport;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@code ./pipeline report [--data-dir DIR]}: usage per adapter, tenant and contributor from the sink's store. */
final class ReportCommand {
    private ReportCommand() {}

    static int run(Options o) {
        Path root = Path.of(System.getProperty("lorastream.root", ".")).toAbsolutePath();
        Path dir = o.has("data-dir") ? Path.of(o.get("data-dir"))
                : Path.of(o.get("work-dir", root.resolve(".work").resolve(latestRun(root)).toString())).resolve("sink");
        if (!Files.isDirectory(dir)) {
            throw new Options.UsageException("report: no sink data in " + dir + " (run ./pipeline demo or up first, or pass --data-dir)");
        }
        System.out.println("report of " + dir);
        System.out.println(UsageReport.render(dir));
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
