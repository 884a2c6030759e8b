package dev.lorastream.router;

import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.KafkaStreams;

import java.util.HashMap;
import java.util.Map;

/**
 * Runs the router until SIGTERM (or until Kafka Streams fails, exit status 1):
 * {@code RouterMain --bootstrap-servers HOST:PORT --schema-registry URL [--state-dir DIR] [--application-id ID]}.
 */
public final class RouterMain {
    static final String USAGE = "usage: router --bootstrap-servers HOST:PORT[,HOST:PORT...] --schema-registry URL"
            + " [--state-dir DIR] [--application-id ID]";

    private static final Map<String, String> FLAGS = Map.of(
            "--bootstrap-servers", RouterConfig.BOOTSTRAP_SERVERS,
            "--schema-registry", RouterConfig.SCHEMA_REGISTRY_URL,
            "--state-dir", RouterConfig.STATE_DIR,
            "--application-id", RouterConfig.APPLICATION_ID);

    private RouterMain() {}

    public static void main(String[] args) throws InterruptedException {
        RouterConfig config;
        try {
            config = parse(args);
        } catch (IllegalArgumentException | ConfigException e) {
            System.err.println("router: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        RouterApp app = new RouterApp(config);
        Runtime.getRuntime().addShutdownHook(new Thread(app::close, "router-shutdown"));
        try {
            app.start();
        } catch (IllegalStateException e) {
            System.err.println("router: " + e.getMessage());
            app.close();
            System.exit(1);
        }
        if (app.awaitTermination() == KafkaStreams.State.ERROR) {
            System.err.println("router: Kafka Streams failed; see the log above");
            System.exit(1);
        }
    }

    /** The configuration the command line asks for; flags may be given as {@code --flag value} or {@code --flag=value}. */
    static RouterConfig parse(String[] args) {
        Map<String, String> props = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            }
            String key = FLAGS.get(arg);
            if (key == null) throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
            if (value == null) {
                if (i + 1 >= args.length) throw new IllegalArgumentException(arg + " needs a value");
                value = args[++i];
            }
            if (props.put(key, value) != null) throw new IllegalArgumentException(arg + " is given twice");
        }
        for (String required : new String[] {"--bootstrap-servers", "--schema-registry"}) {
            if (!props.containsKey(FLAGS.get(required))) throw new IllegalArgumentException(required + " is required");
        }
        return new RouterConfig(props);
    }
}
