package dev.lorastream.sink;

import org.apache.kafka.common.config.ConfigException;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs one attribution sink until the process is stopped:
 * {@code SinkMain --bootstrap-servers HOST:PORT --schema-registry URL --data-dir DIR [--group-id ID]
 * [--batch-size N] [--flush-interval-ms MS] [--no-parquet]}.
 * Exit status 2 for bad arguments, 1 when the sink stops on a failure.
 */
public final class SinkMain {
    private static final Map<String, String> OPTIONS = Map.of(
            "--bootstrap-servers", SinkConfig.BOOTSTRAP_SERVERS,
            "--schema-registry", SinkConfig.SCHEMA_REGISTRY_URL,
            "--data-dir", SinkConfig.DATA_DIR,
            "--group-id", SinkConfig.GROUP_ID,
            "--batch-size", SinkConfig.BATCH_SIZE,
            "--flush-interval-ms", SinkConfig.FLUSH_INTERVAL_MS);

    private SinkMain() {}

    public static void main(String[] args) throws InterruptedException {
        SinkConfig config;
        try {
            config = parse(args);
        } catch (IllegalArgumentException | ConfigException e) {
            System.err.println(e.getMessage());
            System.err.println(usage());
            System.exit(2);
            return;
        }
        AttributionSink sink = new AttributionSink(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            sink.close();
            stopped.countDown();
        }, "attribution-sink-shutdown"));
        sink.start();
        while (sink.isRunning()) {
            if (stopped.await(1, java.util.concurrent.TimeUnit.SECONDS)) return;
        }
        if (sink.failure().isPresent()) {
            System.err.println("attribution sink failed: " + sink.failure().get());
            sink.close();
            System.exit(1);
        }
    }

    /** The configuration the arguments describe; unknown or incomplete options are an {@link IllegalArgumentException}. */
    static SinkConfig parse(String[] args) {
        Map<String, Object> props = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--no-parquet")) {
                props.put(SinkConfig.PARQUET_EXPORT, false);
                continue;
            }
            String key = OPTIONS.get(arg);
            if (key == null) throw new IllegalArgumentException("unknown option " + arg);
            if (i + 1 >= args.length) throw new IllegalArgumentException("option " + arg + " needs a value");
            props.put(key, args[++i]);
        }
        for (String required : new String[] {"--bootstrap-servers", "--schema-registry", "--data-dir"}) {
            if (!props.containsKey(OPTIONS.get(required))) throw new IllegalArgumentException("missing " + required);
        }
        return SinkConfig.from(props);
    }

    static String usage() {
        return "usage: SinkMain --bootstrap-servers HOST:PORT --schema-registry URL --data-dir DIR "
                + "[--group-id ID] [--batch-size N] [--flush-interval-ms MS] [--no-parquet]";
    }
}
