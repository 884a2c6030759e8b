package dev.lorastream.launcher;

import java.util.Map;
import java.util.Set;

/** Entry point of {@code ./pipeline}: one sub-command per job. */
public final class Pipeline {
    /** Options every command that talks to Kafka accepts. */
    static final Set<String> CONNECTION = Set.of("bootstrap-servers", "schema-registry");

    /** Commands and the valued options each accepts (flags: see {@link #FLAGS}). */
    static final Map<String, Set<String>> COMMANDS = Map.of(
            "demo", union(CONNECTION, Set.of("work-dir", "model", "adapters", "http-port", "partitions", "metrics-port", "adapter-device-bytes", "adapter-host-bytes", "adapter-eviction-policy", "precision", "tf32", "graph", "kv-capacity", "cuda-graphs", "bank-rank", "bank-targets")),
            "up", union(CONNECTION, Set.of("work-dir", "model", "adapters", "http-port", "kafka-port", "registry-port", "partitions", "metrics-port", "adapter-device-bytes", "adapter-host-bytes", "adapter-eviction-policy", "precision", "tf32", "graph", "kv-capacity", "cuda-graphs", "bank-rank", "bank-targets")),
            "router", union(CONNECTION, Set.of("state-dir", "placement", "worker-timeout-ms", "busy-at", "metrics-port")),
            "worker", union(CONNECTION, Set.of("model", "adapters", "worker-id", "provider", "max-batch", "metrics-port", "engine", "sim-adapters", "sim-device-slots", "sim-host-slots", "sim-time-scale", "adapter-device-bytes", "adapter-host-bytes", "adapter-eviction-policy", "precision", "tf32", "graph", "kv-capacity", "cuda-graphs", "bank-rank", "bank-targets")),
            "sink", union(CONNECTION, Set.of("data-dir")),
            "http", union(CONNECTION, Set.of("http-port")),
            "report", Set.of("data-dir", "work-dir"));

    static final Set<String> FLAGS = Set.of("help");

    private Pipeline() {}

    public static void main(String[] args) {
        System.exit(run(args, System.getenv()));
    }

    static int run(String[] args, Map<String, String> env) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("help")) {
            System.out.println(usage());
            return args.length == 0 ? 2 : 0;
        }
        String command = args[0];
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        try {
            switch (command) {
                case "submit": return dev.lorastream.ingest.SubmitCommand.run(rest);
                case "generate": return GenerateCommand.run(rest);
                default: break;
            }
            Set<String> valued = COMMANDS.get(command);
            if (valued == null) throw new Options.UsageException("unknown command '" + command + "'\n" + usage());
            Options options = Options.parse(command, rest, valued, FLAGS, env);
            if (options.flag("help")) { System.out.println(usage()); return 0; }
            return switch (command) {
                case "demo" -> new DemoCommand(StackSettings.from(command, options, true)).run();
                case "up" -> new UpCommand(StackSettings.from(command, options, false)).run();
                case "report" -> ReportCommand.run(options);
                default -> ComponentCommand.run(command, options);
            };
        } catch (Options.UsageException e) {
            System.err.println(e.getMessage());
            return 2;
        } catch (org.apache.kafka.common.config.ConfigException e) {
            System.err.println(command + ": bad setting: " + e.getMessage());
            return 2;
        } catch (RuntimeException e) {
            System.err.println(command + " failed: " + e.getMessage());
            e.printStackTrace(System.err);
            return 1;
        }
    }

    static String usage() {
        return """
                usage: ./pipeline <command> [options]
                  demo      start the embedded stack, send demo requests to the three adapters and the backbone,
                            print answers and the attribution summary, shut down
                  up        start the embedded stack (Kafka, schema registry, router, worker, sink, HTTP) until Ctrl-C
                  submit    send one request and print its response (--adapter, --prompt, --max-new-tokens, ...)
                  report    print usage per adapter, tenant and data contributor from the sink's store
                  generate  one greedy generation on the local engine, no Kafka (--model, --adapter, --prompt | --prompt-ids, --max-new-tokens, --ignore-eos)
                  bench-cpu the engine's CPU benchmark (run by ./pipeline from the bench module, which no production artifact contains)
                  router | worker | sink | http   run one component against an existing cluster
                worker options: --model DIR --adapters DIR (or --engine sim [--sim-adapters N --sim-device-slots N --sim-host-slots N
                  --sim-time-scale X]: a simulated engine, labelled so in its heartbeats and metrics), --worker-id, --provider cpu|cuda,
                  --max-batch, --metrics-port, and the engine's --precision, --graph, --kv-capacity, --cuda-graphs, --bank-rank, --bank-targets
                router options: --placement load-aware|hash (default load-aware: by the workers' heartbeats),
                  --worker-timeout-ms N (3000), --busy-at REQUESTS_PER_ROW (1.0), --state-dir DIR, --metrics-port N (9401)
                options shared by all Kafka-facing commands:
                  --bootstrap-servers HOST:PORT   an existing Kafka cluster (default for demo/up: an embedded broker)
                  --schema-registry URL           an existing Confluent-compatible registry (default: embedded Apicurio)
                every option can also be set as LORASTREAM_<OPTION> (e.g. LORASTREAM_BOOTSTRAP_SERVERS)""";
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        java.util.HashSet<String> all = new java.util.HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }
}
