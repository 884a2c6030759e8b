package dev.lorastream.platform.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class StateFileTest {

    @Test
    void valuesSurviveASaveAndLoad(@TempDir Path dir) {
        Path file = dir.resolve("sub").resolve("broker.state");
        StateFile.load(file).set("cluster.id", "abc").set("port", 9092).save("test");

        StateFile loaded = StateFile.load(file);

        assertThat(loaded.get("cluster.id")).isEqualTo("abc");
        assertThat(loaded.port("port")).isEqualTo(9092);
    }

    @Test
    void aMissingFileHasNoValues(@TempDir Path dir) {
        StateFile none = StateFile.load(dir.resolve("none"));

        assertThat(none.get("cluster.id")).isNull();
        assertThat(none.port("port")).isZero();
    }
}
