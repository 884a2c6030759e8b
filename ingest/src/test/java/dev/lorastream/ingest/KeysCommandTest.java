package dev.lorastream.ingest;

import dev.lorastream.ingest.http.auth.ApiKey;
import dev.lorastream.ingest.http.auth.ApiKeys;
import dev.lorastream.ingest.http.auth.KeyFile;
import dev.lorastream.schemas.cli.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code keys add|list}: a key printed once, its hash (never the key) in the file, usage errors naming the option or line. */
class KeysCommandTest {
    @TempDir
    Path dir;
    private StringWriter out = new StringWriter(), err = new StringWriter();

    private int execute(Map<String, String> env, String... args) {
        out = new StringWriter();
        err = new StringWriter();
        return Cli.commandLine(new KeysCommand(), env).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
    }

    private int execute(String... args) { return execute(Map.of(), args); }

    @Test
    void addPrintsANewKeyOnceAndTheFileHoldsOnlyItsHashWithTheTenantModelsAndLimits() throws Exception {
        Path keys = dir.resolve("keys");

        int exit = execute("add", "--keys-file", keys.toString(), "--tenant", "clinic-north", "--models", "dermatology,base",
                "--rps", "5", "--tpm", "20000", "--comment", "north's app");

        assertThat(exit).isZero();
        String key = out.toString().strip();
        assertThat(key).startsWith("lsk-").doesNotContain("\n");
        assertThat(err.toString()).contains("added a key for tenant clinic-north to " + keys + " (line 3); it is shown only this once");
        String file = Files.readString(keys);
        assertThat(file).doesNotContain(key).contains(ApiKeys.hash(key) + " clinic-north models=dermatology,base rps=5 tpm=20000  # north's app");
        ApiKey found = new KeyFile(keys, Duration.ofSeconds(1)).keys().find(key).orElseThrow();
        assertThat(found.tenant()).isEqualTo("clinic-north");
        assertThat(found.mayUse("cardiology")).isFalse();
        assertThat(found.rps()).isEqualTo(5.0);

        assertThat(execute(Map.of("LORASTREAM_KEYS_FILE", keys.toString()), "add", "--tenant", "ops", "--admin")).isZero();
        assertThat(out.toString().strip()).isNotEqualTo(key);
        assertThat(execute("list", "--keys-file", keys.toString())).isZero();
        assertThat(out.toString()).contains("line 3", "clinic-north", "models base,dermatology", "rps 5", "tpm 20000")
                .contains("line 4", "ops", "models *", "rps default", "admin").contains("2 keys").doesNotContain(key);
    }

    @Test
    void optionsTheFileWouldRefuseAreUsageErrorsAndNothingIsWritten() throws Exception {
        Path keys = dir.resolve("keys");
        assertThat(execute("add", "--keys-file", keys.toString(), "--tenant", "t", "--rps", "2")).isZero();

        assertThat(execute("add", "--keys-file", keys.toString(), "--tenant", "bad tenant")).isEqualTo(2);
        assertThat(err.toString()).contains("--tenant 'bad tenant' must be one word");
        assertThat(execute("add", "--keys-file", keys.toString(), "--tenant", "t/1")).isEqualTo(2);
        assertThat(err.toString()).contains("line 4: tenant 't/1' is not 1 to 128 of [A-Za-z0-9._@:-]");
        assertThat(execute("add", "--keys-file", keys.toString(), "--tenant", "t", "--rps", "3")).isEqualTo(2);
        assertThat(err.toString()).contains("rps=3.0 contradicts rps=2.0 on line 3");
        assertThat(execute("add", "--tenant", "t")).isEqualTo(2);
        assertThat(err.toString()).contains("--keys-file");
        assertThat(out.toString()).isEmpty();
        assertThat(Files.readAllLines(keys)).hasSize(3);
    }
}
