package dev.lorastream.schemas.config;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigChecksTest {
    private static final ConfigDef DEF = new ConfigDef()
            .define("url", Type.STRING, "http://127.0.0.1:8081", ConfigChecks::httpUrl, Importance.HIGH, "a URL")
            .define("topic", Type.STRING, "in", ConfigChecks::topicName, Importance.LOW, "a topic");

    @Test
    void parseKnownReadsDefinedKeysAndRefusesOthersNamingThem() {
        AbstractConfig parsed = ConfigChecks.parseKnown(DEF, Map.of("topic", "t.1"), "test");
        assertThat(parsed.getString("topic")).isEqualTo("t.1");
        assertThat(parsed.getString("url")).isEqualTo("http://127.0.0.1:8081");

        assertThatThrownBy(() -> ConfigChecks.parseKnown(DEF, Map.of("topik", "x"), "test"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("topik").hasMessageContaining("unknown test setting; known: ");
    }

    @Test
    void hostPortsAcceptsListsOfHostAndPortAndRefusesTheRestNamingTheEntry() {
        assertThatCode(() -> ConfigChecks.hostPorts("k", "b:9092")).doesNotThrowAnyException();
        assertThatCode(() -> ConfigChecks.hostPorts("k", " a:1, [::1]:65535 ")).doesNotThrowAnyException();
        assertThatThrownBy(() -> ConfigChecks.hostPorts("k", "localhost")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("k").hasMessageContaining("'localhost' is not");
        assertThatThrownBy(() -> ConfigChecks.hostPorts("k", "a:1,b:70000")).hasMessageContaining("'b:70000' is not");
        assertThatThrownBy(() -> ConfigChecks.hostPorts("k", "a:1,")).hasMessageContaining("'' is not");
        assertThatThrownBy(() -> ConfigChecks.hostPorts("k", " ")).hasMessageContaining("host:port");
    }

    @Test
    void httpUrlAcceptsHttpAndHttpsWithAHost() {
        assertThatCode(() -> ConfigChecks.httpUrl("k", "http://r:8081/apis/ccompat/v7")).doesNotThrowAnyException();
        assertThatCode(() -> ConfigChecks.httpUrl("k", " https://registry ")).doesNotThrowAnyException();
    }

    @Test
    void httpUrlRefusesBlankOtherSchemesNoHostAndSyntaxErrors() {
        assertThatThrownBy(() -> ConfigChecks.httpUrl("k", " ")).hasMessageContaining("k").hasMessageContaining("non-empty");
        assertThatThrownBy(() -> ConfigChecks.httpUrl("k", null)).isInstanceOf(ConfigException.class);
        assertThatThrownBy(() -> ConfigChecks.httpUrl("k", "localhost:8081")).hasMessageContaining("with a host");
        assertThatThrownBy(() -> ConfigChecks.httpUrl("k", "http:///x")).hasMessageContaining("with a host");
        assertThatThrownBy(() -> ConfigChecks.httpUrl("k", "http://a b")).hasMessageContaining("is not a valid URL");
    }

    @Test
    void topicNamesFollowKafkasRules() {
        assertThat(ConfigChecks.isTopicName("inference.requests")).isTrue();
        assertThat(ConfigChecks.isTopicName("a".repeat(249))).isTrue();
        assertThat(ConfigChecks.isTopicName("a".repeat(250))).isFalse();
        assertThat(ConfigChecks.isTopicName("")).isFalse();
        assertThat(ConfigChecks.isTopicName(".")).isFalse();
        assertThat(ConfigChecks.isTopicName("..")).isFalse();
        assertThat(ConfigChecks.isTopicName("bad topic!")).isFalse();
        assertThat(ConfigChecks.isTopicName(null)).isFalse();
        assertThatThrownBy(() -> ConfigChecks.topicName("reply.topic", "bad topic!"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("reply.topic").hasMessageContaining("Kafka topic name");
    }

    @Test
    void twoKeysNamingOneTopicAreRefusedNamingBoth() {
        assertThatCode(() -> ConfigChecks.requireDistinctTopics("a", "x", "b", "y")).doesNotThrowAnyException();
        assertThatThrownBy(() -> ConfigChecks.requireDistinctTopics("a", "x", "b", "x"))
                .isInstanceOf(ConfigException.class).hasMessage("a and b are both 'x'; they must name different topics");
        assertThatThrownBy(() -> ConfigChecks.requireDistinctTopics("a", "x", "b", "x", "because"))
                .hasMessage("a and b are both 'x'; because");
    }
}
