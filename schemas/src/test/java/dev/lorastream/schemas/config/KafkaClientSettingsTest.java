package dev.lorastream.schemas.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KafkaClientSettingsTest {
    @TempDir Path dir;

    @Test
    void securitySettingsAreRead() throws Exception {
        Path file = Files.writeString(dir.resolve("client.properties"),
                "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-256\nssl.truststore.location=/etc/ts.jks\n");
        assertThat(KafkaClientSettings.read(file)).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-256").containsEntry("ssl.truststore.location", "/etc/ts.jks");
    }

    @Test
    void anyOtherKeyIsRefusedNamingIt() throws Exception {
        Path file = Files.writeString(dir.resolve("client.properties"), "security.protocol=SASL_SSL\nenable.idempotence=false\n");
        assertThatThrownBy(() -> KafkaClientSettings.read(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'enable.idempotence' is not a client security setting").hasMessageContaining(file.toString());
    }

    @Test
    void aMissingFileIsNamed() {
        Path file = dir.resolve("absent.properties");
        assertThatThrownBy(() -> KafkaClientSettings.read(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka config " + file + " cannot be read");
    }
}
