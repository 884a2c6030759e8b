package dev.lorastream.schemas.config;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

import java.net.URI;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks the components' {@link ConfigDef}-based settings share: refusing unknown keys, http(s)
 * URLs, Kafka topic names and pairs of keys that must name different topics. The validators have
 * the shape of {@link ConfigDef.Validator#ensureValid}, so {@code ConfigChecks::topicName} can be
 * passed to {@link ConfigDef#define}. Every failure is a {@link ConfigException} naming the key(s).
 */
public final class ConfigChecks {
    private static final Pattern TOPIC_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    private ConfigChecks() {}

    /**
     * Parses {@code props} against {@code definition} after refusing every key it does not define.
     *
     * @param what whose settings these are, for the message ("unknown {what} setting; known: [...]")
     */
    public static AbstractConfig parseKnown(ConfigDef definition, Map<String, ?> props, String what) {
        refuseUnknownKeys(definition, props, what);
        return new AbstractConfig(definition, props, false);
    }

    /** Refuses the first key of {@code props} that {@code definition} does not define. */
    public static void refuseUnknownKeys(ConfigDef definition, Map<String, ?> props, String what) {
        for (String key : props.keySet()) {
            if (!definition.names().contains(key)) {
                throw new ConfigException(key, props.get(key), "unknown " + what + " setting; known: " + definition.names());
            }
        }
    }

    /** Validator: a non-blank http or https URL with a host (surrounding whitespace allowed). */
    public static void httpUrl(String key, Object value) {
        if (!(value instanceof String s) || s.isBlank()) throw new ConfigException(key, value, "must be a non-empty http(s) URL");
        try {
            URI uri = URI.create(s.trim());
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new ConfigException(key, value, "must be an http(s) URL with a host, e.g. http://127.0.0.1:8081");
            }
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key, value, "is not a valid URL: " + e.getMessage());
        }
    }

    /** Validator: Kafka bootstrap servers, a comma-separated list of host:port with ports 1 to 65535 (surrounding whitespace allowed). */
    public static void hostPorts(String key, Object value) {
        if (!(value instanceof String s) || s.isBlank()) throw new ConfigException(key, value, "must be host:port[,host:port...]");
        for (String server : s.split(",", -1)) {
            String hostPort = server.trim();
            int colon = hostPort.lastIndexOf(':');
            int port = -1;
            if (colon > 0) {
                try {
                    port = Integer.parseInt(hostPort.substring(colon + 1));
                } catch (NumberFormatException e) {
                    // reported below
                }
            }
            if (port < 1 || port > 65_535) {
                throw new ConfigException(key, value, "must be host:port[,host:port...] with ports 1 to 65535; '" + hostPort + "' is not");
            }
        }
    }

    /** Validator: a name Kafka accepts for a topic. */
    public static void topicName(String key, Object value) {
        if (!(value instanceof String s) || !isTopicName(s)) {
            throw new ConfigException(key, value, "must be a Kafka topic name (1-249 characters of a-z A-Z 0-9 . _ -)");
        }
    }

    /** Whether Kafka accepts {@code name} as a topic name: 1 to 249 of a-z A-Z 0-9 . _ -, and not "." or "..". */
    public static boolean isTopicName(String name) {
        return name != null && TOPIC_NAME.matcher(name).matches() && !name.equals(".") && !name.equals("..");
    }

    /** Refuses two keys naming the same topic: "{keyA} and {keyB} are both '{a}'; they must name different topics". */
    public static void requireDistinctTopics(String keyA, String a, String keyB, String b) {
        requireDistinctTopics(keyA, a, keyB, b, "they must name different topics");
    }

    /** As {@link #requireDistinctTopics(String, String, String, String)}, with {@code why} after the semicolon. */
    public static void requireDistinctTopics(String keyA, String a, String keyB, String b, String why) {
        if (a.equals(b)) {
            throw new ConfigException(keyA + " and " + keyB + " are both '" + a + "'; " + why);
        }
    }
}
