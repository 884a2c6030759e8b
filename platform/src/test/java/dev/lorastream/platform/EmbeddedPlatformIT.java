package dev.lorastream.platform;

import dev.lorastream.platform.internal.FreePorts;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class EmbeddedPlatformIT {

    @Test
    void startsOnFixedPortsAndCloseStopsBoth(@TempDir Path dir) throws Exception {
        // Given two free ports chosen by the caller
        int kafkaPort = FreePorts.pick();
        int registryPort = FreePorts.pick();

        // When the platform starts on them
        EmbeddedPlatform platform = EmbeddedPlatform.start(dir, kafkaPort, registryPort);
        try (platform) {
            // Then both answer there, and the pipeline's topics and subjects can be set up
            assertThat(platform.bootstrapServers()).isEqualTo("127.0.0.1:" + kafkaPort);
            assertThat(platform.schemaRegistryUrl()).isEqualTo("http://127.0.0.1:" + registryPort + "/apis/ccompat/v7");
            assertThat(platform.describe()).contains("127.0.0.1:" + kafkaPort, platform.schemaRegistryUrl());
            TopicSetup.ensure(platform.bootstrapServers(), 2, (short) 1);
            Topics.declareSubjects(new HttpSchemaRegistryClient(platform.schemaRegistryUrl()));
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers()))) {
                assertThat(admin.listTopics().names().get()).containsAll(Topics.VALUE_SCHEMAS.keySet());
            }
        }
        assertThat(platform.broker().isRunning()).isFalse();
        assertThat(platform.registry().isRunning()).isFalse();
        assertThat(FreePorts.isFree(kafkaPort)).isTrue();
        assertThat(FreePorts.isFree(registryPort)).isTrue();
    }
}
