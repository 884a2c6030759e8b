package dev.lorastream.ingest;

import dev.lorastream.ingest.http.auth.ApiKey;
import dev.lorastream.ingest.http.auth.ApiKeys;
import dev.lorastream.ingest.http.auth.KeyFile;
import dev.lorastream.ingest.http.auth.KeyFileException;
import dev.lorastream.schemas.cli.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code keys add|list}: the HTTP endpoint's API keys file ({@code --keys-file} of {@code http} and {@code up}). {@code add}
 * makes a key, appends its SHA-256 with the tenant, models and limits, and prints the key once (standard output, alone on
 * its line); the file never holds a key. A running endpoint takes the new line within its reload interval.
 */
@Command(name = "keys", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Add and list the HTTP endpoint's API keys (the file of http --keys-file): no restart.",
                "The file holds SHA-256 hashes of the keys, each with its tenant, models and rate limits; a key is shown once, when added."},
        subcommands = {KeysCommand.Add.class, KeysCommand.ListKeys.class})
public final class KeysCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return spec.exitCodeOnInvalidInput();
    }

    @Command(name = "add", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Make a key for a tenant and append its hash to the keys file (created when missing, owner-only).",
                    "Prints the key on standard output, once: it cannot be shown again."})
    static final class Add implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--keys-file", paramLabel = "FILE", required = true, description = "the keys file")
        Path keysFile;

        @Option(names = "--tenant", paramLabel = "NAME", required = true, description = "the tenant the key bills (1 to 128 of [A-Za-z0-9._@:-])")
        String tenant;

        @Option(names = "--models", paramLabel = "M[,M...]", defaultValue = "*",
                description = "models the key may use and see: adapter ids, the backbone by its name (base); * for all (default: ${DEFAULT-VALUE})")
        String models;

        @Option(names = "--rps", paramLabel = "N", description = "requests per second of the tenant (default: the endpoint's http.rate.limit.rps)")
        String rps;

        @Option(names = "--tpm", paramLabel = "N", description = "tokens per minute of the tenant (default: the endpoint's http.rate.limit.tpm)")
        String tpm;

        @Option(names = "--admin", description = "may also add and remove adapters through /v1/load_lora_adapter and /v1/unload_lora_adapter")
        boolean admin;

        @Option(names = "--comment", paramLabel = "TEXT", description = "a note kept after the line's '#', e.g. who holds the key")
        String comment;

        @Override
        public Integer call() {
            for (String[] option : new String[][] {{"--tenant", tenant}, {"--models", models}, {"--rps", rps}, {"--tpm", tpm}}) {
                if (option[1] != null && (option[1].isBlank() || option[1].chars().anyMatch(c -> Character.isWhitespace(c) || c == '#'))) {
                    throw Cli.usageError(spec, option[0] + " '" + option[1] + "' must be one word, without spaces or '#'");
                }
            }
            String key = ApiKeys.newKey();
            StringBuilder line = new StringBuilder(ApiKeys.hash(key)).append(' ').append(tenant);
            if (!models.equals("*")) line.append(" models=").append(models);
            if (rps != null) line.append(" rps=").append(rps);
            if (tpm != null) line.append(" tpm=").append(tpm);
            if (admin) line.append(" admin");
            if (comment != null) {
                if (comment.contains("\n") || comment.contains("\r")) throw Cli.usageError(spec, "--comment must be one line");
                line.append("  # ").append(comment);
            }
            int number;
            try {
                number = KeyFile.append(keysFile, line.toString());
            } catch (KeyFileException e) {
                // what the options make of the line, as the file's reader says it (the line number is the new line's)
                throw Cli.usageError(spec, e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println(key);
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            err.println("keys: added a key for tenant " + tenant + " to " + keysFile + " (line " + number + "); it is shown only this once");
            err.flush();
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the keys file's keys: line, hash prefix, tenant, models, limits.")
    static final class ListKeys implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--keys-file", paramLabel = "FILE", required = true, description = "the keys file")
        Path keysFile;

        @Override
        public Integer call() {
            List<ApiKey> keys;
            try (KeyFile file = new KeyFile(keysFile, Duration.ofSeconds(1))) {
                keys = file.keys().keys();
            } catch (KeyFileException e) {
                spec.commandLine().getErr().println("keys list: " + e.getMessage());
                spec.commandLine().getErr().flush();
                return 1;
            }
            PrintWriter out = spec.commandLine().getOut();
            for (ApiKey k : keys) {
                out.println(String.format("line %-4d %s...  %-20s models %-24s rps %-7s tpm %-8s %s", k.line(), k.shortHash(), k.tenant(),
                        k.models().isEmpty() ? "*" : String.join(",", k.models().stream().sorted().toList()),
                        k.rps() == null ? "default" : trim(k.rps()), k.tpm() == null ? "default" : k.tpm(), k.admin() ? "admin" : "").stripTrailing());
            }
            out.println(keys.size() + (keys.size() == 1 ? " key" : " keys"));
            out.flush();
            return 0;
        }

        private static String trim(double v) { return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v); }
    }
}
