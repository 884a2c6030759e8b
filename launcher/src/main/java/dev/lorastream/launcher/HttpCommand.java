package dev.lorastream.launcher;

import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.http.HttpConfig;
import dev.lorastream.ingest.http.OpenAiServer;
import dev.lorastream.schemas.cli.Cli;
import dev.lorastream.schemas.cli.ConnectionOptions;
import dev.lorastream.schemas.cli.Setting;
import dev.lorastream.schemas.cli.SettingDefaults;
import dev.lorastream.schemas.cli.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code ./pipeline http}: the OpenAI-compatible endpoint against an existing cluster and registry, until SIGTERM. */
@Command(name = "http", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the OpenAI-compatible HTTP endpoint against an existing cluster until SIGTERM.",
                "/v1/completions and /v1/chat/completions (stream: true too), /v1/models, /v1/models/{id}, /health and /ready; each request sent through Kafka.",
                "With --model and --adapters also /v1/load_lora_adapter and /v1/unload_lora_adapter (keys marked admin)."})
final class HttpCommand implements Callable<Integer>, SettingDefaults {
    private static final SettingDefaults DEFAULTS = SettingDefaults.of(HttpConfig.DEFINITION);

    @Spec CommandSpec spec;

    @Mixin ConnectionOptions connection;

    @Option(names = "--http-port", paramLabel = "PORT", description = "port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE})")
    @Setting(HttpConfig.PORT)
    String httpPort;

    @Option(names = "--http-host", paramLabel = "ADDRESS",
            description = "address to listen on: loopback unless told otherwise; another (0.0.0.0: every interface, in a container) only with --keys-file "
                    + "(default: ${DEFAULT-VALUE})")
    @Setting(HttpConfig.HOST)
    String httpHost;

    @Option(names = "--keys-file", paramLabel = "FILE",
            description = "API keys (./pipeline keys add): every /v1 request then needs 'Authorization: Bearer <key>', which names its tenant, "
                    + "models and limits; reloaded when the file changes (default: none: the tenant is the request's X-Tenant or user, loopback only)")
    @Setting(HttpConfig.KEYS_FILE)
    String keysFile;

    @Option(names = "--rate-limit-rps", paramLabel = "N", description = "requests per second per tenant, for keys whose line gives none; 0: no limit (default: ${DEFAULT-VALUE})")
    @Setting(HttpConfig.RATE_LIMIT_RPS)
    String rateLimitRps;

    @Option(names = "--rate-limit-tpm", paramLabel = "N", description = "tokens per minute per tenant (max_tokens reserved, settled by the usage), for keys whose line gives none; 0: no limit (default: ${DEFAULT-VALUE})")
    @Setting(HttpConfig.RATE_LIMIT_TPM)
    String rateLimitTpm;

    @Option(names = "--max-model-len", paramLabel = "TOKENS", description = "context window that /v1/models reports: set it to the router's context window (default: ${DEFAULT-VALUE})")
    @Setting(HttpConfig.MAX_MODEL_LEN)
    String maxModelLen;

    @Option(names = "--model", paramLabel = "DIR", description = "the backbone that adapters added through POST /v1/load_lora_adapter must fit "
            + "(with --adapters; default: none, and adapters are added with ./pipeline adapters add)")
    java.nio.file.Path model;

    @Option(names = "--adapters", paramLabel = "DIR", description = "the adapter store the workers load from, where /v1/load_lora_adapter copies an adapter "
            + "(with --model)")
    java.nio.file.Path adapters;

    @Option(names = "--max-lora-rank", paramLabel = "R", defaultValue = "" + dev.lorastream.engine.EngineConfig.DEFAULT_MAX_LORA_RANK,
            description = "the largest rank the workers accept, for /v1/load_lora_adapter (default: ${DEFAULT-VALUE})")
    int maxLoraRank;

    /** The endpoint's settings the command line describes (the connection is the client's). */
    HttpConfig config() {
        Map<String, Object> props = new HashMap<>();
        if (httpPort != null) props.put(HttpConfig.PORT, httpPort);
        if (httpHost != null) props.put(HttpConfig.HOST, httpHost);
        if (maxModelLen != null) props.put(HttpConfig.MAX_MODEL_LEN, maxModelLen);
        if (keysFile != null) props.put(HttpConfig.KEYS_FILE, keysFile);
        if (rateLimitRps != null) props.put(HttpConfig.RATE_LIMIT_RPS, rateLimitRps);
        if (rateLimitTpm != null) props.put(HttpConfig.RATE_LIMIT_TPM, rateLimitTpm);
        return Settings.build(spec, props, HttpConfig::from);
    }

    @Override
    public Integer call() throws InterruptedException {
        connection.require();
        HttpConfig config = config();
        if ((model == null) != (adapters == null)) throw Cli.usageError(spec, "--model and --adapters go together (runtime adapter updates need both)");
        if (model != null && !dev.lorastream.engine.model.ModelConfig.isModelDir(model)) throw Cli.usageError(spec, "--model: no backbone at " + model + " (no config.json)");
        if (adapters != null && !java.nio.file.Files.isDirectory(adapters)) throw Cli.usageError(spec, "--adapters: no adapter store at " + adapters);
        Connection c = new Connection(connection.bootstrapServers(), connection.schemaRegistry());
        Components.provision(c);
        InferenceClient client = Components.client(c);
        OpenAiServer http;
        try {
            http = Components.http(client, config);
            if (model != null) {
                http.adapterAdmin(new AdapterManager(c, dev.lorastream.schemas.registry.RememberingSchemaRegistryClient.connect(c.schemaRegistryUrl()),
                        model.toAbsolutePath(), adapters.toAbsolutePath(), maxLoraRank, client::adapters));
            }
            http.start();
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            http.close();
            client.close();
            stopped.countDown();
        }, "http-shutdown"));
        spec.commandLine().getOut().println("http: running against " + c.bootstrapServers() + " and " + c.schemaRegistryUrl()
                + "; listening on " + config.host() + ":" + http.port() + (config.keysFile() == null ? " (no API keys)" : " (API keys from " + config.keysFile() + ")")
                + (model == null ? "" : "; adapters added at run time go to " + adapters.toAbsolutePath()));
        spec.commandLine().getOut().flush();
        try {
            stopped.await();
        } finally { // interrupted (an embedding caller stopping it) as well as shut down: the port and the clients are given back
            http.close();
            client.close();
        }
        return 0;
    }

    @Override
    public String defaultOf(String key) { return DEFAULTS.defaultOf(key); }
}
