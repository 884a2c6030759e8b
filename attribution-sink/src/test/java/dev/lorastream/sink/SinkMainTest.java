package dev.lorastream.sink;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SinkMainTest {
    @Test
    void theCommandLineBecomesAConfig() {
        SinkConfig config = SinkMain.parse(new String[] {"--bootstrap-servers", "h:1", "--schema-registry", "http://r:2",
                "--data-dir", "/var/sink", "--group-id", "g", "--no-parquet"});

        assertThat(config.bootstrapServers()).isEqualTo("h:1");
        assertThat(config.schemaRegistryUrl()).isEqualTo("http://r:2");
        assertThat(config.dataDir()).isEqualTo(Path.of("/var/sink"));
        assertThat(config.groupId()).isEqualTo("g");
        assertThat(config.parquetExport()).isFalse();
    }

    @Test
    void aMissingDataDirIsRefused() {
        assertThatThrownBy(() -> SinkMain.parse(new String[] {"--bootstrap-servers", "h:1", "--schema-registry", "http://r:2"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--data-dir");
    }

    @Test
    void anUnknownOptionIsRefused() {
        assertThatThrownBy(() -> SinkMain.parse(new String[] {"--bootstrap", "h:1"}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--bootstrap");
    }
}
