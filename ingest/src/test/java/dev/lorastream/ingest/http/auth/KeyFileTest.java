package dev.lorastream.ingest.http.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class KeyFileTest {
    @TempDir
    Path dir;

    @Test
    void appendCreatesAnOwnerOnlyFileWithAHeaderAndKeepsEveryLineParsable() throws Exception {
        Path file = dir.resolve("conf/keys");
        assertThat(KeyFile.append(file, ApiKeys.hash("k1") + " t1")).isEqualTo(3);
        assertThat(KeyFile.append(file, ApiKeys.hash("k2") + " t2 rps=1")).isEqualTo(4);

        assertThat(Files.readString(file)).startsWith("# lorastream API keys").doesNotContain("k1 ").endsWith(" t2 rps=1\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        KeyFile keys = new KeyFile(file, Duration.ofSeconds(1));
        assertThat(keys.keys().find("k2").orElseThrow().line()).isEqualTo(4);
        assertThatThrownBy(() -> KeyFile.append(file, ApiKeys.hash("k3") + " t2 rps=2")).isInstanceOf(KeyFileException.class)
                .hasMessageContaining("contradicts rps=1.0 on line 4");
        assertThat(Files.readAllLines(file)).hasSize(4);
    }

    @Test
    void aMissingOrBrokenFileIsRefusedAtTheStart() throws Exception {
        assertThatThrownBy(() -> new KeyFile(dir.resolve("none"), Duration.ofSeconds(1))).isInstanceOf(KeyFileException.class)
                .hasMessageContaining("cannot be read");
        Path broken = dir.resolve("broken");
        Files.writeString(broken, "# keys\nlsk-a-plain-key tenant\n");
        assertThatThrownBy(() -> new KeyFile(broken, Duration.ofSeconds(1))).isInstanceOf(KeyFileException.class)
                .hasMessageContaining(broken + " line 2: 'lsk-a-plain-key' is not sha256");
    }

    @Test
    void aChangedFileIsReloadedAndABrokenChangeKeepsTheKeysReadBefore() throws Exception {
        Path file = dir.resolve("keys");
        KeyFile.append(file, ApiKeys.hash("old") + " t");
        try (KeyFile keys = new KeyFile(file, Duration.ofMillis(20))) {
            keys.start();
            KeyFile.append(file, ApiKeys.hash("new") + " t");
            await().atMost(Duration.ofSeconds(10)).until(() -> keys.keys().find("new").isPresent());

            Files.writeString(file, "\n" + ApiKeys.hash("newer") + " t rps=lots\n", java.nio.file.StandardOpenOption.APPEND);
            await().atMost(Duration.ofSeconds(10)).until(() -> keys.lastError().isPresent());
            assertThat(keys.lastError().orElseThrow()).contains("line 6: rps=lots is not a number");
            assertThat(keys.keys().find("old")).isPresent();
            assertThat(keys.keys().find("new")).isPresent();
            assertThat(keys.keys().find("newer")).isEmpty();

            Files.delete(file);
            await().atMost(Duration.ofSeconds(10)).until(() -> keys.lastError().orElse("").contains("cannot be read"));
            assertThat(keys.keys().find("old")).as("still the keys read before").isPresent();

            Files.writeString(file, ApiKeys.hash("only") + " u\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> keys.keys().find("only").isPresent());
            assertThat(keys.keys().find("old")).isEmpty();
            assertThat(keys.lastError()).isEmpty();
        }
    }
}
