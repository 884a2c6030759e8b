package dev.lorastream.ingest;

import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClientConfigTest {

    @Test
    void defaultsNameThePipelineTopics() {
        ClientConfig config = ClientConfig.builder("localhost:9092", "http://localhost:8081").build();

        assertThat(config.requestTopic()).isEqualTo("inference.requests");
        assertThat(config.replyTopic()).isEqualTo("inference.responses");
        assertThat(config.dlqTopic()).isEqualTo("inference.dlq");
        assertThat(config.catalogTopic()).isEqualTo("adapters.catalog");
        assertThat(config.defaultTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.clientId()).isEqualTo("lorastream-ingest");
    }

    @Test
    void readsEveryKeyFromAMap() {
        ClientConfig config = ClientConfig.from(Map.of(
                ClientConfig.BOOTSTRAP_SERVERS, "b:1", ClientConfig.SCHEMA_REGISTRY_URL, "http://r:2/apis/ccompat/v7",
                ClientConfig.REPLY_TOPIC, "my.replies", ClientConfig.DEFAULT_TIMEOUT_MS, "1500", ClientConfig.CLIENT_ID, "me"));

        assertThat(config.bootstrapServers()).isEqualTo("b:1");
        assertThat(config.schemaRegistryUrl()).isEqualTo("http://r:2/apis/ccompat/v7");
        assertThat(config.replyTopic()).isEqualTo("my.replies");
        assertThat(config.defaultTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(config.clientId()).isEqualTo("me");
    }

    @Test
    void missingBootstrapServersIsRefusedByName() {
        assertThatThrownBy(() -> ClientConfig.builder("", "http://r:1").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("bootstrap.servers");
    }

    @Test
    void bootstrapServersWithoutAPortIsRefusedByName() {
        assertThatThrownBy(() -> ClientConfig.builder("localhost", "http://r:1").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("bootstrap.servers").hasMessageContaining("host:port");
    }

    @Test
    void registryUrlWithoutHttpSchemeIsRefusedByName() {
        assertThatThrownBy(() -> ClientConfig.builder("b:1", "localhost:8081").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("schema.registry.url");
    }

    @Test
    void sameTopicForRequestsAndRepliesIsRefusedNamingBothKeys() {
        assertThatThrownBy(() -> ClientConfig.builder("b:1", "http://r:1").replyTopic("inference.requests").build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("request.topic").hasMessageContaining("reply.topic");
    }

    @Test
    void invalidTopicNameIsRefused() {
        assertThatThrownBy(() -> ClientConfig.builder("b:1", "http://r:1").replyTopic("bad topic!").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("reply.topic");
    }

    @Test
    void nonPositiveTimeoutIsRefused() {
        assertThatThrownBy(() -> ClientConfig.builder("b:1", "http://r:1").defaultTimeout(Duration.ZERO).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("default.timeout.ms");
    }

    @Test
    void unknownKeyIsRefused() {
        assertThatThrownBy(() -> ClientConfig.from(Map.of(ClientConfig.BOOTSTRAP_SERVERS, "b:1",
                ClientConfig.SCHEMA_REGISTRY_URL, "http://r:1", "reply.topik", "x")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("reply.topik");
    }
}
