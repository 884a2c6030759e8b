package dev.lorastream.schemas.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * A secured cluster's client settings ({@code security.protocol}, {@code sasl.*}, {@code ssl.*}), read from a
 * properties file and added to every Kafka client this process makes: producers, consumers, admins and Kafka
 * Streams (which passes them to its own clients). The file is the one {@code --kafka-config} names, or the
 * {@value #ENV} environment variable; without either, clients connect as before (PLAINTEXT). Only security keys
 * are taken: any other key is refused naming it, since the pipeline sets the rest itself and a stray
 * {@code enable.idempotence=false} would silently break exactly-once. The one home of this rule, for every component.
 */
public final class KafkaClientSettings {
    /** The environment variable naming the properties file when no {@code --kafka-config} is given. */
    public static final String ENV = "LORASTREAM_KAFKA_CONFIG";

    private static volatile Map<String, String> settings;

    private KafkaClientSettings() {}

    /**
     * Reads {@code file} and uses its settings for every client made from now on.
     *
     * @throws IllegalArgumentException naming the file and the key when a key is not a security setting, or the file cannot be read
     */
    public static void use(Path file) {
        settings = read(file);
    }

    /** {@code props} with the settings added (the same object, changed); Kafka Streams takes Properties. */
    public static Properties apply(Properties props) {
        props.putAll(settings());
        return props;
    }

    /** A new mutable map: {@code props} and the settings. */
    public static Map<String, Object> with(Map<String, ?> props) {
        Map<String, Object> merged = new HashMap<>(props);
        merged.putAll(settings());
        return merged;
    }

    /** A new mutable map: {@code props}' entries and the settings. */
    public static Map<String, Object> with(Properties props) {
        Map<String, Object> merged = new HashMap<>();
        props.forEach((k, v) -> merged.put(k.toString(), v));
        merged.putAll(settings());
        return merged;
    }

    /** The settings of {@code file}. */
    static Map<String, String> read(Path file) {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (IOException e) {
            throw new IllegalArgumentException("kafka config " + file + " cannot be read: " + e.getMessage(), e);
        }
        Map<String, String> read = new TreeMap<>();
        for (String key : p.stringPropertyNames()) {
            if (!(key.equals("security.protocol") || key.startsWith("sasl.") || key.startsWith("ssl."))) {
                throw new IllegalArgumentException("kafka config " + file + ": '" + key + "' is not a client security setting "
                        + "(security.protocol, sasl.*, ssl.*); the pipeline sets its clients' other settings itself");
            }
            read.put(key, p.getProperty(key).trim());
        }
        return Map.copyOf(read);
    }

    /** The settings in use: those of {@link #use}, else of the file {@value #ENV} names, read on first use. */
    private static Map<String, String> settings() {
        Map<String, String> s = settings;
        if (s != null) return s;
        synchronized (KafkaClientSettings.class) {
            if (settings == null) {
                String file = System.getenv(ENV);
                if (file == null || file.isBlank()) {
                    settings = Map.of();
                } else {
                    settings = read(Path.of(file));
                }
            }
            return settings;
        }
    }
}
