package dev.lorastream.schemas.cli;

import org.apache.kafka.common.config.ConfigDef;

/**
 * Implemented by a command or mixin whose fields carry {@link Setting}s: the defaults of the keys
 * they set, from the configuration that owns the keys. {@link Cli} shows them as the options'
 * defaults ({@code ${DEFAULT-VALUE}} in a description).
 */
public interface SettingDefaults {
    /** The key's default as text, or null when it has none (a required key, or one left out by default). */
    String defaultOf(String key);

    /** The defaults of a Kafka {@link ConfigDef}. */
    static SettingDefaults of(ConfigDef definition) {
        return key -> {
            ConfigDef.ConfigKey k = definition.configKeys().get(key);
            if (k == null || !k.hasDefault() || k.defaultValue == null) return null;
            String text = ConfigDef.convertToString(k.defaultValue, k.type);
            return text == null || text.isEmpty() ? null : text;
        };
    }
}
