package dev.lorastream.worker;

import org.apache.kafka.common.config.ConfigException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The worker's command line: {@code --bootstrap-servers HOST:PORT --schema-registry URL --model DIR
 * --adapters DIR [--worker-id ID] [--group-id ID] [--max-batch N] [--provider cpu|cuda] [--precision P] [--graph G]}, plus
 * {@code --set key=value} for any other {@link WorkerConfig} key.
 */
public final class WorkerArgs {
    private static final Map<String, ConfigKey<?>> FLAGS = Map.ofEntries(
            Map.entry("--bootstrap-servers", WorkerConfig.BOOTSTRAP_SERVERS),
            Map.entry("--schema-registry", WorkerConfig.SCHEMA_REGISTRY_URL),
            Map.entry("--model", WorkerConfig.MODEL_DIR),
            Map.entry("--adapters", WorkerConfig.ADAPTER_DIR),
            Map.entry("--worker-id", WorkerConfig.WORKER_ID),
            Map.entry("--group-id", WorkerConfig.GROUP_ID),
            Map.entry("--max-batch", WorkerConfig.MAX_BATCH_SIZE),
            Map.entry("--provider", WorkerConfig.EXECUTION_PROVIDER),
            Map.entry("--precision", WorkerConfig.PRECISION),
            Map.entry("--graph", WorkerConfig.GRAPH),
            Map.entry("--engine", WorkerConfig.ENGINE));

    public static final String USAGE = """
            usage: worker --bootstrap-servers HOST:PORT --schema-registry URL (--model DIR --adapters DIR | --engine sim)
                          [--worker-id ID] [--group-id ID] [--max-batch N] [--provider cpu|cuda] [--precision auto|fp32|fp16]
                          [--graph auto|fused|reference] [--set key=value ...]
            keys:
            """ + WorkerConfig.help();

    private WorkerArgs() {}

    /** Whether the arguments ask for the usage text. */
    public static boolean wantsHelp(String[] args) {
        for (String a : args) if (a.equals("--help") || a.equals("-h")) return true;
        return false;
    }

    /**
     * @throws ConfigException for an unknown flag, a flag without its value, or any invalid configuration
     */
    public static WorkerConfig parse(String[] args) {
        Map<String, String> raw = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            String value;
            int eq = flag.indexOf('=');
            if (flag.startsWith("--") && eq > 0) {
                value = flag.substring(eq + 1);
                flag = flag.substring(0, eq);
            } else {
                if (i + 1 >= args.length) throw new ConfigException("flag " + flag + " needs a value\n" + USAGE);
                value = args[++i];
            }
            if (flag.equals("--set")) {
                int kv = value.indexOf('=');
                if (kv <= 0) throw new ConfigException("--set needs key=value, got '" + value + "'");
                raw.put(value.substring(0, kv), value.substring(kv + 1));
            } else if (FLAGS.containsKey(flag)) {
                raw.put(FLAGS.get(flag).name(), value);
            } else {
                throw new ConfigException("unknown flag " + flag + "\n" + USAGE);
            }
        }
        return WorkerConfig.from(raw);
    }
}
