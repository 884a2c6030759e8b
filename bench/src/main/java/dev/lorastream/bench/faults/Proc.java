package dev.lorastream.bench.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One component of the deployment as an OS process of its own, with the signals the fault matrix
 * sends it: {@code kill -9}, SIGTERM, SIGSTOP and SIGCONT. Its output is appended to a log file.
 */
final class Proc {
    private final String name;
    private final List<String> command;
    private final Path log;
    private Process process;

    Proc(String name, List<String> command, Path log) {
        this.name = name;
        this.command = List.copyOf(command);
        this.log = log;
    }

    String name() { return name; }

    synchronized Proc start() {
        if (process != null && process.isAlive()) return this;
        try {
            Files.createDirectories(log.getParent());
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + name + ": " + e, e);
        }
        return this;
    }

    synchronized boolean alive() { return process != null && process.isAlive(); }

    synchronized long pid() { return process == null ? -1 : process.pid(); }

    /** kill -9 of the process and of everything it started (the registry's own JVM dies with its parent watch). */
    synchronized void kill9() {
        if (process == null) return;
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        await();
    }

    /** SIGTERM, and kill -9 after {@code graceSeconds}. */
    synchronized void terminate(int graceSeconds) {
        if (process == null) return;
        process.destroy();
        try {
            if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) kill9();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void freeze() { signal("STOP"); }

    void thaw() { signal("CONT"); }

    private void signal(String sig) {
        long pid = pid();
        if (pid < 0) return;
        try {
            new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start().waitFor();
        } catch (IOException e) {
            throw new IllegalStateException("kill -" + sig + " " + name + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void await() {
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
