package dev.lorastream.sink;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;

/**
 * Run in a child JVM by tests: opens a store (read-write, as a running sink does), says
 * {@value #READY} on stdout and holds the store until its stdin closes.
 * Arguments: data dir, parquet export (true|false).
 */
public final class HoldStore {
    static final String READY = "holding";

    public static void main(String[] args) throws Exception {
        try (AttributionStore store = AttributionStore.open(Path.of(args[0]), Boolean.parseBoolean(args[1]))) {
            System.out.println(READY + " " + store.rowCount());
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
            while (in.readLine() != null) {
                // hold until the parent closes our stdin
            }
        }
    }
}
