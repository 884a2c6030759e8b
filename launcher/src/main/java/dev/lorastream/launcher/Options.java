package dev.lorastream.launcher;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line flags of the form {@code --name value} or {@code --name} (boolean), checked
 * against the flags a command accepts; every flag may also come from an environment variable
 * {@code LORASTREAM_<NAME>} (dashes as underscores), which is how docker-compose configures it.
 */
final class Options {
    private final Map<String, String> values = new HashMap<>();
    private final List<String> positional = new ArrayList<>();

    private Options() {}

    static Options parse(String command, String[] args, Set<String> valued, Set<String> flags, Map<String, String> env) {
        Options o = new Options();
        for (String name : valued) {
            String fromEnv = env.get(envName(name));
            if (fromEnv != null && !fromEnv.isBlank()) o.values.put(name, fromEnv);
        }
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) { o.positional.add(a); continue; }
            String name = a.substring(2);
            String inline = null;
            int eq = name.indexOf('=');
            if (eq >= 0) { inline = name.substring(eq + 1); name = name.substring(0, eq); }
            if (flags.contains(name)) {
                o.values.put(name, inline == null ? "true" : inline);
            } else if (valued.contains(name)) {
                if (inline == null) {
                    if (i + 1 >= args.length) throw new UsageException(command + ": --" + name + " needs a value");
                    inline = args[++i];
                }
                o.values.put(name, inline);
            } else {
                throw new UsageException(command + ": unknown option --" + name);
            }
        }
        return o;
    }

    static String envName(String flag) { return "LORASTREAM_" + flag.toUpperCase().replace('-', '_'); }

    String get(String name) { return values.get(name); }

    String get(String name, String fallback) { return values.getOrDefault(name, fallback); }

    boolean has(String name) { return values.containsKey(name); }

    boolean flag(String name) { return Boolean.parseBoolean(values.getOrDefault(name, "false")); }

    int intValue(String command, String name, int fallback, int min, int max) {
        String v = values.get(name);
        if (v == null) return fallback;
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) throw new UsageException(command + ": --" + name + " must be in [" + min + ", " + max + "], got " + v);
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " must be an integer, got '" + v + "'");
        }
    }

    List<String> positional() { return positional; }

    /** Thrown for bad command lines; the launcher prints the message and exits 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) { super(message); }
    }
}
