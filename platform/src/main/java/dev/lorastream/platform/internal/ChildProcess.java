package dev.lorastream.platform.internal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Helpers for a service run as a child process: stopping its whole tree and reading its log's tail. */
public final class ChildProcess {
    private ChildProcess() {}

    /** Asks the process and its descendants to stop (SIGTERM), then kills what is left after the grace period. */
    public static void destroyTree(ProcessHandle root, long graceMillis) {
        var descendants = root.descendants().toList();
        descendants.forEach(ProcessHandle::destroy);
        root.destroy();
        try {
            root.onExit().get(graceMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // did not stop in time: force below
        }
        descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        if (root.isAlive()) {
            root.destroyForcibly();
            try {
                root.onExit().get(graceMillis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                // the OS will reap it
            }
        }
    }

    /** The last {@code maxLines} lines of a log file (at most 64 KiB are read), or a note when there is none. */
    public static String tail(Path file, int maxLines) {
        if (!Files.exists(file)) return "(no log at " + file + ")";
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long length = raf.length();
            long from = Math.max(0, length - 64 * 1024);
            byte[] bytes = new byte[(int) (length - from)];
            raf.seek(from);
            raf.readFully(bytes);
            String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\r?\n");
            int start = Math.max(0, lines.length - maxLines);
            return String.join(System.lineSeparator(), java.util.Arrays.copyOfRange(lines, start, lines.length));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }
}
