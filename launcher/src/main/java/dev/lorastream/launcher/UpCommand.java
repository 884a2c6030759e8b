package dev.lorastream.launcher;

import dev.lorastream.ingest.http.HttpConfig;
import dev.lorastream.schemas.cli.ConnectionOptions;
import dev.lorastream.schemas.cli.Settings;
import org.apache.kafka.common.config.ConfigException;
import dev.lorastream.schemas.cli.Port;
import dev.lorastream.worker.CacheOptions;
import dev.lorastream.worker.EngineOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.HashMap;
import java.util.Map;
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

    @Option(names = "--http-host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "address of the HTTP endpoint: loopback unless told otherwise; another (0.0.0.0: every interface) only with --keys-file "
                    + "(default: ${DEFAULT-VALUE})")
    String httpHost;

    @Option(names = "--keys-file", paramLabel = "FILE",
            description = "API keys of the HTTP endpoint (./pipeline keys add): every /v1 request then needs one, which names its tenant; "
                    + "reloaded when it changes (default: none, the tenant is the request's X-Tenant or user)")
    String keysFile;

    @Option(names = "--rate-limit-rps", paramLabel = "N", description = "requests per second per tenant, for keys that give none; 0: no limit (default: 0)")
    String rateLimitRps;

    @Option(names = "--rate-limit-tpm", paramLabel = "N", description = "tokens per minute per tenant, for keys that give none; 0: no limit (default: 0)")
    String rateLimitTpm;

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

    /** The stack the command line describes; the HTTP endpoint's settings checked, a refusal naming the option. */
    StackSettings settings() {
        Map<String, Object> http = new HashMap<>();
        http.put(HttpConfig.HOST, httpHost);
        if (keysFile != null) http.put(HttpConfig.KEYS_FILE, keysFile);
        if (rateLimitRps != null) http.put(HttpConfig.RATE_LIMIT_RPS, rateLimitRps);
        if (rateLimitTpm != null) http.put(HttpConfig.RATE_LIMIT_TPM, rateLimitTpm);
        StackSettings settings = stack.settings(spec, connection, httpPort, kafkaPort, registryPort, metricsPort, http);
        try {
            settings.httpConfig();
        } catch (ConfigException e) {
            throw Settings.explain(spec, e, Map.of(HttpConfig.HOST, "--http-host", HttpConfig.KEYS_FILE, "--keys-file",
                    HttpConfig.RATE_LIMIT_RPS, "--rate-limit-rps", HttpConfig.RATE_LIMIT_TPM, "--rate-limit-tpm", HttpConfig.PORT, "--http-port"));
        }
        return settings;
    }

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
