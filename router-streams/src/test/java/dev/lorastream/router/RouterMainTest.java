package dev.lorastream.router;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RouterMainTest {

    @Test
    void theFlagsBecomeTheConfiguration() {
        RouterConfig config = RouterMain.parse(new String[] {
                "--bootstrap-servers", "127.0.0.1:9092", "--schema-registry=http://127.0.0.1:8081", "--state-dir", "/tmp/router-x"});

        assertThat(config.bootstrapServers()).isEqualTo("127.0.0.1:9092");
        assertThat(config.schemaRegistryUrl()).isEqualTo("http://127.0.0.1:8081");
        assertThat(config.stateDir()).isEqualTo(Path.of("/tmp/router-x"));
        assertThat(config.applicationId()).isEqualTo(RouterConfig.DEFAULT_APPLICATION_ID);
    }

    @Test
    void aMissingRequiredFlagIsNamed() {
        assertThatThrownBy(() -> RouterMain.parse(new String[] {"--bootstrap-servers", "b:9092"}))
                .hasMessageContaining("--schema-registry is required");
    }

    @Test
    void anUnknownFlagOrAMissingValueIsRefused() {
        assertThatThrownBy(() -> RouterMain.parse(new String[] {"--bootstrap", "b:9092"})).hasMessageContaining("unknown argument '--bootstrap'");
        assertThatThrownBy(() -> RouterMain.parse(new String[] {"--schema-registry", "http://r:1", "--bootstrap-servers"}))
                .hasMessageContaining("--bootstrap-servers needs a value");
    }
}
