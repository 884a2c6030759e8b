package dev.lorastream.router;

import dev.lorastream.router.internal.DeadLetterExceptionHandler;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RouterConfigTest {

    private static Map<String, Object> required() {
        Map<String, Object> props = new HashMap<>();
        props.put(RouterConfig.BOOTSTRAP_SERVERS, "127.0.0.1:9092");
        props.put(RouterConfig.SCHEMA_REGISTRY_URL, "http://127.0.0.1:8081/apis/ccompat/v7");
        return props;
    }

    private static RouterConfig with(String key, Object value) {
        Map<String, Object> props = required();
        props.put(key, value);
        return new RouterConfig(props);
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        RouterConfig config = new RouterConfig(required());

        assertThat(config.applicationId()).isEqualTo("lorastream-router");
        assertThat(config.maxPromptChars()).isEqualTo(32_768);
        assertThat(config.maxPromptTokenIds()).isEqualTo(8_192);
        assertThat(config.maxNewTokensLimit()).isEqualTo(4_096);
        assertThat(config.numStreamThreads()).isEqualTo(1);
        assertThat(config.processingGuarantee()).isEqualTo(StreamsConfig.EXACTLY_ONCE_V2);
        assertThat(config.stateDir()).isEqualTo(Path.of(RouterConfig.DEFAULT_STATE_DIR));
    }

    @Test
    void everyKeyHasADocLine() {
        assertThat(RouterConfig.configDef().configKeys().values())
                .allSatisfy(key -> assertThat(key.documentation).isNotBlank());
    }

    @Test
    void bootstrapServersAndRegistryAreRequired() {
        assertThatThrownBy(() -> new RouterConfig(Map.of(RouterConfig.SCHEMA_REGISTRY_URL, "http://r:8081")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("bootstrap.servers");
        assertThatThrownBy(() -> new RouterConfig(Map.of(RouterConfig.BOOTSTRAP_SERVERS, "b:9092")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("schema.registry.url");
    }

    @Test
    void malformedValuesAreRefusedNamingTheKey() {
        assertThatThrownBy(() -> with(RouterConfig.BOOTSTRAP_SERVERS, "localhost")).hasMessageContaining("bootstrap.servers")
                .hasMessageContaining("host:port");
        assertThatThrownBy(() -> with(RouterConfig.SCHEMA_REGISTRY_URL, "registry:8081")).hasMessageContaining("schema.registry.url");
        assertThatThrownBy(() -> with(RouterConfig.APPLICATION_ID, "router one")).hasMessageContaining("application.id");
        assertThatThrownBy(() -> with(RouterConfig.MAX_PROMPT_CHARS, 0)).hasMessageContaining(RouterConfig.MAX_PROMPT_CHARS);
        assertThatThrownBy(() -> with(RouterConfig.MAX_NEW_TOKENS_LIMIT, "many")).hasMessageContaining(RouterConfig.MAX_NEW_TOKENS_LIMIT);
        assertThatThrownBy(() -> with(RouterConfig.NUM_STREAM_THREADS, 0)).hasMessageContaining("num.stream.threads");
        assertThatThrownBy(() -> with(RouterConfig.PROCESSING_GUARANTEE, "exactly_once")).hasMessageContaining("processing.guarantee");
    }

    @Test
    void stringValuesAreParsedAsFromAPropertiesFile() {
        RouterConfig config = with(RouterConfig.MAX_PROMPT_CHARS, "1000");
        assertThat(config.maxPromptChars()).isEqualTo(1000);
    }

    @Test
    void limitsThatCannotFitTheContextWindowAreRefusedNamingTheKeys() {
        Map<String, Object> props = required();
        props.put(RouterConfig.MAX_PROMPT_TOKEN_IDS, 16_000);
        props.put(RouterConfig.MAX_NEW_TOKENS_LIMIT, 4_096);

        assertThatThrownBy(() -> new RouterConfig(props)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(RouterConfig.MAX_PROMPT_TOKEN_IDS)
                .hasMessageContaining(RouterConfig.MAX_NEW_TOKENS_LIMIT)
                .hasMessageContaining(RouterConfig.MAX_CONTEXT_TOKENS);

        props.put(RouterConfig.MAX_CONTEXT_TOKENS, 20_096);
        assertThat(new RouterConfig(props).maxPromptTokenIds()).isEqualTo(16_000);
    }

    @Test
    void aPassThroughOfAKeyTheRouterOwnsIsRefusedNamingBoth() {
        assertThatThrownBy(() -> with("streams.processing.guarantee", "at_least_once")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("streams.processing.guarantee").hasMessageContaining("set processing.guarantee instead");
        assertThatThrownBy(() -> with("streams.processing.exception.handler", "x.Y"))
                .hasMessageContaining("streams.processing.exception.handler").hasMessageContaining("dead-letter handler");
    }

    @Test
    void theRoutersThreadsAreStaticGroupMembersWithAShortSession() {
        RouterConfig config = new RouterConfig(required());
        assertThat(config.configuredInstanceId()).as("derived when the router starts").isNull();
        assertThat(config.sessionTimeout()).isEqualTo(Duration.ofMillis(7_000));
        assertThat(config.leaveGroupOnClose()).isTrue();
        assertThat(config.instanceLockFile()).isEqualTo(config.stateDir().resolve(RouterConfig.DEFAULT_APPLICATION_ID + ".instance.lock"));

        StreamsConfig parsed = new StreamsConfig(config.toStreamsProperties("router-a"));
        Map<String, Object> consumer = parsed.getMainConsumerConfigs("lorastream-router", "c", 1);
        assertThat(consumer).as("Streams appends the thread's index").containsEntry(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "router-a-1")
                .containsEntry(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 7_000)
                .containsEntry(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_750);
        assertThat(new StreamsConfig(config.toStreamsProperties(null)).getMainConsumerConfigs("lorastream-router", "c", 1))
                .doesNotContainKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    }

    @Test
    void membershipIsTheRoutersOwnNotAPassThrough() {
        assertThatThrownBy(() -> with("streams.group.instance.id", "x")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("set instance.id instead");
        assertThatThrownBy(() -> with("streams.session.timeout.ms", "9000")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("set session.timeout.ms instead");
        Map<String, Object> props = required();
        props.put("streams.heartbeat.interval.ms", "500");
        assertThat(new StreamsConfig(new RouterConfig(props).toStreamsProperties("r")).getMainConsumerConfigs("g", "c", 0))
                .containsEntry(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "500");
    }

    @Test
    void streamsPropertiesSetBothExceptionHandlersExplicitly() {
        Properties props = new RouterConfig(required()).toStreamsProperties();

        assertThat(props.get(StreamsConfig.DEFAULT_DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG))
                .isEqualTo(DeadLetterExceptionHandler.class.getName());
        assertThat(props.get(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG))
                .isEqualTo(DeadLetterExceptionHandler.class.getName());
        assertThat(props.get(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG))
                .isEqualTo(DeadLetterExceptionHandler.class.getName());
    }

    @Test
    void theLatencySettingsAreTheRoutersUnlessPassedThrough() {
        StreamsConfig parsed = new StreamsConfig(new RouterConfig(required()).toStreamsProperties());
        assertThat(parsed.getLong(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG)).isEqualTo(RouterConfig.DEFAULT_COMMIT_INTERVAL_MS).isEqualTo(5L);
        assertThat(parsed.getProducerConfigs("router-test-producer").get(org.apache.kafka.clients.producer.ProducerConfig.LINGER_MS_CONFIG))
                .isEqualTo(RouterConfig.DEFAULT_PRODUCER_LINGER_MS);

        Map<String, Object> props = required();
        props.put("streams.commit.interval.ms", "20");
        props.put("streams.poll.ms", "50");
        props.put("streams.producer.linger.ms", "7");
        StreamsConfig overridden = new StreamsConfig(new RouterConfig(props).toStreamsProperties());
        assertThat(overridden.getLong(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG)).isEqualTo(20L);
        assertThat(overridden.getLong(StreamsConfig.POLL_MS_CONFIG)).isEqualTo(50L);
        assertThat(overridden.getProducerConfigs("router-test-producer").get(org.apache.kafka.clients.producer.ProducerConfig.LINGER_MS_CONFIG))
                .isEqualTo("7");
    }

    @Test
    void streamsPropertiesCarryTheRoutersSettingsAndThePassThrough() {
        Map<String, Object> props = required();
        props.put(RouterConfig.APPLICATION_ID, "router-test");
        props.put(RouterConfig.NUM_STREAM_THREADS, 3);
        props.put(RouterConfig.PROCESSING_GUARANTEE, "at_least_once");
        props.put("streams.commit.interval.ms", "50");

        Properties streams = new RouterConfig(props).toStreamsProperties();
        StreamsConfig parsed = new StreamsConfig(streams);

        assertThat(parsed.getString(StreamsConfig.APPLICATION_ID_CONFIG)).isEqualTo("router-test");
        assertThat(parsed.getList(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG)).containsExactly("127.0.0.1:9092");
        assertThat(parsed.getInt(StreamsConfig.NUM_STREAM_THREADS_CONFIG)).isEqualTo(3);
        assertThat(parsed.getString(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)).isEqualTo("at_least_once");
        assertThat(parsed.getLong(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG)).isEqualTo(50L);
        assertThat(streams.get(RouterConfig.SCHEMA_REGISTRY_URL)).isEqualTo("http://127.0.0.1:8081/apis/ccompat/v7");
    }

    @Test
    void severalBootstrapServersAreAccepted() {
        assertThat(with(RouterConfig.BOOTSTRAP_SERVERS, "a:9092,b:9093").bootstrapServers()).isEqualTo("a:9092,b:9093");
    }
}
