package dev.lorastream.worker;

import dev.lorastream.schemas.cli.Cli;

/**
 * Runs one worker until SIGTERM / Ctrl-C: {@link WorkerCommand}, the same options as
 * {@code ./pipeline worker} (the GPU bundle's {@code bin/worker} runs this).
 */
public final class WorkerMain {
    private WorkerMain() {}

    public static void main(String[] args) {
        int code = Cli.run(new WorkerCommand(), args);
        if (code != 0) System.exit(code);
    }
}
