package dev.lorastream.platform.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The Kafka version on the class path, from kafka-clients' {@code kafka/kafka-version.properties}. */
public final class KafkaVersion {
    private static final String VERSION = read();

    private KafkaVersion() {}

    public static String get() { return VERSION; }

    private static String read() {
        try (InputStream in = KafkaVersion.class.getResourceAsStream("/kafka/kafka-version.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
