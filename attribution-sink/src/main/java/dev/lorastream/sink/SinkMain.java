package dev.lorastream.sink;

import dev.lorastream.schemas.cli.Cli;

/** Runs one attribution sink until the process is stopped: {@link SinkCommand}, the same options as {@code ./pipeline sink}. */
public final class SinkMain {
    private SinkMain() {}

    public static void main(String[] args) {
        int code = Cli.run(new SinkCommand(), args);
        if (code != 0) System.exit(code);
    }
}
