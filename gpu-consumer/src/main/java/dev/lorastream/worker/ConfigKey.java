package dev.lorastream.worker;

import org.apache.kafka.common.config.ConfigException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * One configuration key: its name, type, default, validator and a doc line (after Kafka's
 * {@code ConfigDef}). A key without a default is required.
 */
public final class ConfigKey<T> {
    private final String name;
    private final String type;
    private final Class<T> javaType;
    private final Function<String, T> parser;
    private final Supplier<T> defaultValue;
    private final Predicate<T> check;
    private final String constraint;
    private final String doc;

    private ConfigKey(String name, String type, Class<T> javaType, Function<String, T> parser,
                      Supplier<T> defaultValue, Predicate<T> check, String constraint, String doc) {
        this.name = name;
        this.type = type;
        this.javaType = javaType;
        this.parser = parser;
        this.defaultValue = defaultValue;
        this.check = check;
        this.constraint = constraint;
        this.doc = doc;
    }

    public static ConfigKey<String> string(String name, Supplier<String> defaultValue, Pattern pattern, String doc) {
        return new ConfigKey<>(name, "string", String.class, String::trim, defaultValue,
                s -> pattern.matcher(s).matches(), "must match " + pattern.pattern(), doc);
    }

    /** A regular expression, kept as its text; refused when it does not compile. */
    public static ConfigKey<String> regex(String name, String defaultValue, String doc) {
        return new ConfigKey<>(name, "regex", String.class, String::trim, () -> defaultValue,
                s -> !s.isEmpty() && compiles(s), "must be a non-empty java.util.regex pattern", doc);
    }

    private static boolean compiles(String regex) {
        try {
            Pattern.compile(regex);
            return true;
        } catch (java.util.regex.PatternSyntaxException e) {
            return false;
        }
    }

    public static ConfigKey<String> oneOf(String name, String defaultValue, Set<String> allowed, String doc) {
        return new ConfigKey<>(name, "string", String.class, s -> s.trim().toLowerCase(java.util.Locale.ROOT),
                () -> defaultValue, allowed::contains, "must be one of " + String.join(" | ", allowed.stream().sorted().toList()), doc);
    }

    public static ConfigKey<Integer> integer(String name, int defaultValue, int min, int max, String doc) {
        return new ConfigKey<>(name, "int", Integer.class, s -> Integer.valueOf(s.trim()), () -> defaultValue,
                v -> v >= min && v <= max, "must be in [" + min + ", " + max + "]", doc);
    }

    public static ConfigKey<Duration> millis(String name, long defaultMs, long minMs, long maxMs, String doc) {
        return new ConfigKey<>(name, "duration (ms)", Duration.class, s -> Duration.ofMillis(Long.parseLong(s.trim())),
                () -> Duration.ofMillis(defaultMs), d -> d.toMillis() >= minMs && d.toMillis() <= maxMs,
                "must be in [" + minMs + ", " + maxMs + "] ms", doc);
    }

    /** A size in bytes, written as a number of bytes or with a unit: 512KiB, 64MiB, 2GiB. */
    public static ConfigKey<Long> bytes(String name, long defaultBytes, String doc) {
        return new ConfigKey<>(name, "bytes", Long.class, ConfigKey::parseBytes, () -> defaultBytes,
                v -> v >= 0, "must be 0 (automatic) or a positive size such as 4194304, 512KiB, 64MiB or 2GiB", doc);
    }

    public static long parseBytes(String text) {
        String s = text.trim();
        long unit = 1;
        for (var u : Map.of("KiB", 1L << 10, "MiB", 1L << 20, "GiB", 1L << 30).entrySet()) {
            if (s.endsWith(u.getKey())) {
                unit = u.getValue();
                s = s.substring(0, s.length() - u.getKey().length()).trim();
            }
        }
        return Math.multiplyExact(Long.parseLong(s), unit);
    }

    public static ConfigKey<Path> directory(String name, String doc) {
        return new ConfigKey<>(name, "directory", Path.class, s -> Path.of(s.trim()), null,
                java.nio.file.Files::isDirectory, "must be an existing directory", doc);
    }

    /** A directory that may be left out (its value is then null): which other key needs it is checked by the configuration. */
    public static ConfigKey<Path> optionalDirectory(String name, String doc) {
        return new ConfigKey<>(name, "directory", Path.class, s -> Path.of(s.trim()), () -> null,
                java.nio.file.Files::isDirectory, "must be an existing directory", doc);
    }

    public static ConfigKey<Double> decimal(String name, double defaultValue, double min, double max, String doc) {
        return new ConfigKey<>(name, "number", Double.class, s -> Double.valueOf(s.trim()), () -> defaultValue,
                v -> v >= min && v <= max, "must be in [" + min + ", " + max + "]", doc);
    }

    public String name() { return name; }

    public String doc() { return doc; }

    public boolean required() { return defaultValue == null; }

    /** The key's value in {@code raw} (a string or an already typed value), or its default; validated. */
    T resolve(Map<String, ?> raw) {
        Object given = raw.get(name);
        T value;
        if (given == null) {
            if (defaultValue == null) throw new ConfigException(name + " is required: " + doc);
            value = defaultValue.get();
            if (value == null) return null; // an optional key left out
        } else if (javaType.isInstance(given) && !(given instanceof String)) {
            value = javaType.cast(given);
        } else if (given instanceof Number n && javaType == Duration.class) {
            value = javaType.cast(Duration.ofMillis(n.longValue()));
        } else if (given instanceof Number n && javaType == Double.class) {
            value = javaType.cast(n.doubleValue());
        } else if (given instanceof Number n && javaType == Long.class) {
            value = javaType.cast(n.longValue());
        } else {
            try {
                value = parser.apply(given.toString());
            } catch (RuntimeException e) {
                throw new ConfigException(name, given, "not a valid " + type + " (" + doc + ")");
            }
        }
        if (!check.test(value)) throw new ConfigException(name, given == null ? value : given, constraint);
        return value;
    }

    /** The default as text that {@link #resolve} reads back (durations in ms); null for a required key or one left out by default. */
    public String defaultText() {
        Object d = defaultValue == null ? null : defaultValue.get();
        return d == null ? null : d instanceof Duration t ? Long.toString(t.toMillis()) : d.toString();
    }

    /** One line for a help text: name, type, default and doc. */
    public String describe() {
        Object d = defaultValue == null ? null : defaultValue.get();
        String def = defaultValue == null ? "required" : d == null ? "optional" : "default " + (d instanceof Duration t ? t.toMillis() : Objects.toString(d));
        return String.format("%-24s %-14s %s; %s, %s", name, type, doc, def, constraint);
    }

    @Override
    public String toString() { return name; }
}
