package dev.lorastream.launcher;

import dev.lorastream.schemas.cli.ConnectionOptions;
import dev.lorastream.schemas.cli.Port;
import dev.lorastream.worker.CacheOptions;
import dev.lorastream.worker.EngineOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code ./pipeline up}: the stack until Ctrl-C (or SIGTERM), then a clean shutdown. */
@Command(name = "up", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Start the embedded stack (Kafka, schema registry, router, worker, sink, HTTP) until Ctrl-C.",
                "With --bootstrap-servers and --schema-registry: that cluster and registry instead of embedded ones."})
final class UpCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin ConnectionOptions connection;

    @Mixin StackOptions stack;

    @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "8000", converter = Port.class,
            description = "port of the OpenAI-compatible HTTP endpoint; 0 picks a free one (default: ${DEFAULT-VALUE})")
    int httpPort;

    @Option(names = "--kafka-port", paramLabel = "PORT", defaultValue = "9092", converter = Port.class,
            description = "port of the embedded Kafka broker; 0 picks a free one (default: ${DEFAULT-VALUE})")
    int kafkaPort;

    @Option(names = "--registry-port", paramLabel = "PORT", defaultValue = "8081", converter = Port.class,
            description = "port of the embedded schema registry; 0 picks a free one (default: ${DEFAULT-VALUE})")
    int registryPort;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "9400", converter = Port.class,
            description = "port of the worker's /metrics endpoint (127.0.0.1); 0 picks a free one (default: ${DEFAULT-VALUE})")
    int metricsPort;

    @Mixin EngineOptions engine;

    @Mixin CacheOptions cache;

    /** The stack the command line describes. */
    StackSettings settings() { return stack.settings(spec, connection, httpPort, kafkaPort, registryPort, metricsPort); }

    @Override
    public Integer call() {
        StackSettings settings = settings();
        CountDownLatch stopped = new CountDownLatch(1);
        Stack stack = Stack.start(settings, System.out);
        Thread hook = new Thread(() -> {
            System.out.println("up: shutting down...");
            stack.close();
            stopped.countDown();
        }, "pipeline-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("up: running; try  ./pipeline submit --bootstrap-servers " + stack.connection.bootstrapServers()
                + " --schema-registry " + stack.connection.schemaRegistryUrl() + " --adapter dermatology --prompt 'itchy rash'");
        System.out.println("up: Ctrl-C stops everything");
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
