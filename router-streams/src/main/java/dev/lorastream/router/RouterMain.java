package dev.lorastream.router;

import dev.lorastream.schemas.cli.Cli;

/** Runs the router until SIGTERM: {@link RouterCommand}, the same options as {@code ./pipeline router}. */
public final class RouterMain {
    private RouterMain() {}

    public static void main(String[] args) {
        int code = Cli.run(new RouterCommand(), args);
        if (code != 0) System.exit(code);
    }
}
