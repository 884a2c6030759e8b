package dev.lorastream.ingest;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The arguments of {@code submit}, parsed and checked. Flags take their value as the next
 * argument or after {@code =}; a leading {@code submit} word is allowed.
 *
 * @param adapter null for the plain backbone
 * @param prompt null when {@code promptIds} is given
 * @param promptIds null when {@code prompt} is given
 */
public record SubmitOptions(String bootstrapServers, String schemaRegistry, String adapter, String prompt, List<Integer> promptIds,
                            int maxNewTokens, float temperature, String tenant, Duration timeout) {

    public static final String USAGE = """
            usage: submit --bootstrap-servers HOST:PORT --schema-registry URL [--adapter ID]
                          (--prompt TEXT | --prompt-ids 1,2,3) [--max-new-tokens N] [--temperature T]
                          [--tenant NAME] [--timeout-s SECONDS]
              --adapter         LoRA adapter id; absent serves the plain backbone
              --max-new-tokens  tokens to generate, at least 1 (default 32)
              --temperature     0 (greedy, default) to 2
              --tenant          who pays for the request (default cli)
              --timeout-s       seconds to wait for the response (default 60)
            exit status: 0 OK response, 1 ERROR response or no response, 2 bad arguments""";

    static final String BOOTSTRAP = "--bootstrap-servers";
    static final String REGISTRY = "--schema-registry";
    static final String ADAPTER = "--adapter";
    static final String PROMPT = "--prompt";
    static final String PROMPT_IDS = "--prompt-ids";
    static final String MAX_NEW_TOKENS = "--max-new-tokens";
    static final String TEMPERATURE = "--temperature";
    static final String TENANT = "--tenant";
    static final String TIMEOUT = "--timeout-s";
    private static final Set<String> FLAGS = Set.of(BOOTSTRAP, REGISTRY, ADAPTER, PROMPT, PROMPT_IDS, MAX_NEW_TOKENS,
            TEMPERATURE, TENANT, TIMEOUT);

    /** True when the arguments ask for help ({@code --help} or {@code -h}). */
    public static boolean wantsHelp(String[] args) {
        for (String a : args) if (a.equals("--help") || a.equals("-h")) return true;
        return false;
    }

    /** @throws UsageException naming the flag and what is wrong with it */
    public static SubmitOptions parse(String[] args) {
        Map<String, String> given = new HashMap<>();
        int i = args.length > 0 && args[0].equals("submit") ? 1 : 0;
        for (; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) throw new UsageException(null, "unexpected argument '" + arg + "'");
            String flag = arg;
            String value;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                flag = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            } else if (i + 1 < args.length && !FLAGS.contains(args[i + 1])) {
                value = args[++i];
            } else {
                value = null;
            }
            if (!FLAGS.contains(flag)) throw new UsageException(flag, "unknown flag " + flag);
            if (value == null) throw new UsageException(flag, flag + " needs a value");
            if (given.putIfAbsent(flag, value) != null) throw new UsageException(flag, flag + " is given more than once");
        }
        String bootstrap = required(given, BOOTSTRAP);
        checkBootstrap(bootstrap);
        String registry = required(given, REGISTRY);
        checkUrl(registry);
        String adapter = given.get(ADAPTER);
        if (adapter != null && adapter.isBlank()) throw new UsageException(ADAPTER, ADAPTER + " must not be empty (leave it out for the backbone)");
        String prompt = given.get(PROMPT);
        List<Integer> promptIds = given.containsKey(PROMPT_IDS) ? tokenIds(given.get(PROMPT_IDS)) : null;
        if (prompt != null && promptIds != null) throw new UsageException(PROMPT, PROMPT + " and " + PROMPT_IDS + " are exclusive; give one");
        if (prompt == null && promptIds == null) throw new UsageException(PROMPT, "one of " + PROMPT + " or " + PROMPT_IDS + " is required");
        if (prompt != null && prompt.isEmpty()) throw new UsageException(PROMPT, PROMPT + " must not be empty");
        int maxNewTokens = given.containsKey(MAX_NEW_TOKENS) ? integer(MAX_NEW_TOKENS, given.get(MAX_NEW_TOKENS)) : 32;
        if (maxNewTokens < 1) throw new UsageException(MAX_NEW_TOKENS, MAX_NEW_TOKENS + " must be at least 1, got " + maxNewTokens);
        float temperature = given.containsKey(TEMPERATURE) ? number(TEMPERATURE, given.get(TEMPERATURE)).floatValue() : 0f;
        if (!(temperature >= 0f && temperature <= 2f)) {
            throw new UsageException(TEMPERATURE, TEMPERATURE + " must be between 0 and 2, got " + given.get(TEMPERATURE));
        }
        String tenant = given.getOrDefault(TENANT, "cli");
        if (tenant.isBlank()) throw new UsageException(TENANT, TENANT + " must not be empty");
        double timeoutS = given.containsKey(TIMEOUT) ? number(TIMEOUT, given.get(TIMEOUT)) : 60;
        if (!(timeoutS > 0 && timeoutS <= 86_400)) {
            throw new UsageException(TIMEOUT, TIMEOUT + " must be more than 0 and at most 86400 seconds, got " + given.get(TIMEOUT));
        }
        return new SubmitOptions(bootstrap, registry, adapter, prompt, promptIds, maxNewTokens, temperature, tenant,
                Duration.ofMillis(Math.round(timeoutS * 1000)));
    }

    /** Settings of the client this command uses. */
    public ClientConfig clientConfig() {
        return ClientConfig.builder(bootstrapServers, schemaRegistry).clientId("lorastream-submit").defaultTimeout(timeout).build();
    }

    private static String required(Map<String, String> given, String flag) {
        String value = given.get(flag);
        if (value == null || value.isBlank()) throw new UsageException(flag, flag + " is required");
        return value.trim();
    }

    private static void checkBootstrap(String servers) {
        for (String server : servers.split(",", -1)) {
            int colon = server.trim().lastIndexOf(':');
            boolean ok = colon > 0;
            if (ok) {
                try {
                    int port = Integer.parseInt(server.trim().substring(colon + 1));
                    ok = port > 0 && port < 65536;
                } catch (NumberFormatException e) {
                    ok = false;
                }
            }
            if (!ok) {
                throw new UsageException(BOOTSTRAP, BOOTSTRAP + " must be a comma-separated list of host:port, got '" + servers + "'");
            }
        }
    }

    private static void checkUrl(String url) {
        try {
            URI uri = URI.create(url);
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) return;
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw new UsageException(REGISTRY, REGISTRY + " must be an http(s) URL, e.g. http://127.0.0.1:8081, got '" + url + "'");
    }

    private static List<Integer> tokenIds(String value) {
        List<Integer> ids = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            try {
                int id = Integer.parseInt(part.trim());
                if (id < 0) throw new NumberFormatException();
                ids.add(id);
            } catch (NumberFormatException e) {
                throw new UsageException(PROMPT_IDS, PROMPT_IDS + " must be a comma-separated list of non-negative token ids, got '" + value + "'");
            }
        }
        return List.copyOf(ids);
    }

    private static int integer(String flag, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(flag, flag + " must be an integer, got '" + value + "'");
        }
    }

    private static Double number(String flag, String value) {
        try {
            double d = Double.parseDouble(value.trim());
            if (!Double.isFinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw new UsageException(flag, flag + " must be a number, got '" + value + "'");
        }
    }
}
