package dev.lorastream.schemas.cli;

import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

import java.lang.reflect.Field;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * From a parsed command's {@link Setting} options to its component's configuration: each option's
 * text under its key, for the configuration class to parse and check (the command line does not
 * check values itself), and the configuration's refusals reported naming the option.
 */
public final class Settings {
    private Settings() {}

    /** The key an option sets, or null when it sets none. */
    public static String key(ArgSpec option) {
        if (option.userObject() instanceof Field f) {
            Setting s = f.getAnnotation(Setting.class);
            if (s != null) return s.value();
        }
        return null;
    }

    /**
     * The text of every {@link Setting} option of the command (its mixins' included) that has a value,
     * by key: given on the command line, from the environment, or the configuration's default.
     */
    public static Map<String, Object> of(CommandSpec spec) {
        Map<String, Object> props = new LinkedHashMap<>();
        for (OptionSpec option : spec.options()) {
            String key = key(option);
            Object value = option.getValue();
            if (key != null && value != null) props.put(key, value.toString());
        }
        return props;
    }

    /** Each key the command's options set, with the option that sets it ({@code --busy-at}). */
    public static Map<String, String> optionsByKey(CommandSpec spec) {
        Map<String, String> options = new LinkedHashMap<>();
        for (OptionSpec option : spec.options()) {
            String key = key(option);
            if (key != null) options.putIfAbsent(key, option.longestName());
        }
        return options;
    }

    /**
     * The configuration {@code config} makes of {@code props}; when it refuses them, a usage error naming
     * the option that set the key at fault (exit status 2).
     */
    public static <T> T build(CommandSpec spec, Map<String, ?> props, Function<Map<String, ?>, T> config) {
        try {
            return config.apply(props);
        } catch (ConfigException e) {
            throw explain(spec, e, optionsByKey(spec));
        }
    }

    /**
     * A configuration's refusal as a usage error of the command: "--busy-at: Invalid value abc for
     * configuration router.placement.busy.at: ..." when the message names a key one of
     * {@code optionsByKey} sets (the first so named), else the message alone.
     */
    public static ParameterException explain(CommandSpec spec, ConfigException e, Map<String, String> optionsByKey) {
        String message = String.valueOf(e.getMessage());
        String option = null;
        int first = Integer.MAX_VALUE;
        for (Map.Entry<String, String> k : optionsByKey.entrySet()) {
            Matcher m = Pattern.compile("(?<![\\w.])" + Pattern.quote(k.getKey()) + "(?![\\w.])").matcher(message);
            if (m.find() && m.start() < first) {
                first = m.start();
                option = k.getValue();
            }
        }
        return new ParameterException(spec.commandLine(), option == null ? message : option + ": " + message, e);
    }
}
