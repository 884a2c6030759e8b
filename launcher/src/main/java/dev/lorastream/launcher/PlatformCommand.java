package dev.lorastream.launcher;

import dev.lorastream.platform.ClusterSecurity;
import dev.lorastream.platform.EmbeddedPlatform;
import dev.lorastream.schemas.config.KafkaClientSettings;
import dev.lorastream.schemas.cli.Port;
import dev.lorastream.schemas.registry.RememberingSchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code ./pipeline platform}: the embedded broker and schema registry alone, with the pipeline's topics and
 * subjects, until Ctrl-C; the components then run (and are restarted) as their own processes against it,
 * as in production ({@code ./pipeline router|worker|sink|http --bootstrap-servers ... --schema-registry ...}).
 */
@Command(name = "platform", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Start only the embedded Kafka broker and schema registry (topics and subjects made) until Ctrl-C.",
                "Then run the router, workers, sink and HTTP endpoint as processes of their own against it."})
final class PlatformCommand implements Callable<Integer> {
    @Option(names = "--work-dir", paramLabel = "DIR", description = "where the broker's and registry's data go (default: <checkout>/.work/platform)")
    Path workDir;

    @Option(names = "--kafka-port", paramLabel = "PORT", defaultValue = "9092", converter = Port.class,
            description = "port of the broker; 0 picks a free one (default: ${DEFAULT-VALUE})")
    int kafkaPort;

    @Option(names = "--registry-port", paramLabel = "PORT", defaultValue = "8081", converter = Port.class,
            description = "port of the schema registry; 0 picks a free one (default: ${DEFAULT-VALUE})")
    int registryPort;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "4", description = "partitions of the topics it creates (default: ${DEFAULT-VALUE})")
    int partitions;

    @Option(names = "--secure", description = {"SASL/SCRAM and ACLs on the broker; writes each component's client settings to "
            + "<work-dir>/platform/security/{router,worker,sink,http}.properties (give each its own as --kafka-config; pipeline.properties "
            + "is a super user for one process running them all) and one file per --caller.",
            "A work folder keeps the mode it was first started in."})
    boolean secure;

    @Option(names = "--caller", paramLabel = "NAME", description = "a caller account (repeatable; needs --secure): may write "
            + "inference.requests and read only inference.responses.NAME (its reply_topic) and adapters.catalog; settings in security/NAME.properties")
    java.util.List<String> callers = new java.util.ArrayList<>();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path root = Path.of(System.getProperty("lorastream.root", ".")).toAbsolutePath().normalize();
        Path work = (workDir != null ? workDir : root.resolve(".work").resolve("platform")).toAbsolutePath();
        if (!callers.isEmpty() && !secure) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--caller needs --secure");
        for (String caller : callers) {
            try {
                ClusterSecurity.checkCallerName(caller);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--caller: " + e.getMessage());
            }
        }
        WorkDirLock lock = WorkDirLock.acquire(work);
        EmbeddedPlatform platform = EmbeddedPlatform.builder(work.resolve("platform")).brokerPort(kafkaPort).registryPort(registryPort)
                .partitions(partitions).secured(secure).start();
        ClusterSecurity security = platform.broker().security();
        if (security != null) KafkaClientSettings.use(security.clientFile(ClusterSecurity.PIPELINE));
        TopicSetup.ensure(platform.bootstrapServers(), partitions, (short) 1);
        Topics.declareSubjects(RememberingSchemaRegistryClient.connect(platform.schemaRegistryUrl()));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("platform: shutting down...");
            try {
                platform.close();
                lock.close();
            } catch (Exception e) {
                System.err.println("platform: shutdown failed: " + e);
            }
            stopped.countDown();
        }, "platform-shutdown"));
        System.out.println("kafka       " + platform.bootstrapServers() + "   (embedded KRaft broker, data in " + work.resolve("platform") + ")");
        System.out.println("registry    " + platform.schemaRegistryUrl());
        String kafkaConfig = "";
        if (security != null) {
            System.out.println("security    SASL_PLAINTEXT SCRAM-SHA-256 with ACLs; each component as its own principal:");
            for (String component : ClusterSecurity.COMPONENTS) {
                System.out.printf("            %-6s --kafka-config %s%n", component, security.clientFile(component));
            }
            System.out.println("            (one process running them all, and tools: --kafka-config " + security.clientFile(ClusterSecurity.PIPELINE) + ")");
            for (String caller : callers) {
                System.out.println("caller      " + caller + ": --kafka-config " + security.addCaller(platform.bootstrapServers(), caller)
                        + "  (reply_topic " + ClusterSecurity.replyTopic(caller) + ")");
            }
            kafkaConfig = " --kafka-config " + security.clientFile(ClusterSecurity.ROUTER);
        }
        System.out.println("platform: running; e.g.  ./pipeline router --bootstrap-servers " + platform.bootstrapServers()
                + " --schema-registry " + platform.schemaRegistryUrl() + kafkaConfig);
        System.out.println("platform: Ctrl-C stops it");
        stopped.await();
        return 0;
    }
}
