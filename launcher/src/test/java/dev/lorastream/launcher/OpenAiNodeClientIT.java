package dev.lorastream.launcher;

import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.demo.DemoModels;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.http.OpenAiServer;
import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.router.RouterApp;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.Worker;
import dev.lorastream.worker.WorkerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The official OpenAI Node client ({@code openai} 6.x, clients/openai-node) against the HTTP
 * endpoint of a real pipeline (router, CPU worker, embedded broker and registry): chat and
 * completions, plain and streamed (its async iterator and its stream helper), the usage chunk, stop
 * sequences, and an error inside a stream. The client's own checks are in check.mjs; this test runs it and
 * requires its last line to be {@code {"ok":true}}. Node and npm must be installed; the client's
 * package is installed from package-lock.json when missing.
 */
class OpenAiNodeClientIT {
    private static final Path CLIENT = Path.of("..", "clients", "openai-node").toAbsolutePath().normalize();

    @TempDir
    Path work;

    @Test
    void theOfficialNodeClientStreamsAndCallsEveryShape() throws Exception {
        ensureClientInstalled();
        KafkaPlatform platform = TestPlatform.shared();
        String bootstrap = platform.bootstrapServers();
        TopicSetup.ensure(bootstrap, 4, (short) 1);
        Topics.declareSubjects(new HttpSchemaRegistryClient(platform.schemaRegistryUrl()));
        Connection c = new Connection(bootstrap, platform.schemaRegistryUrl());
        DemoModels.Paths demo = DemoModels.write(work.resolve("models"));
        String group = "node-it-" + System.nanoTime();
        TopicReader.startGroupAtEnd(bootstrap, group, Topics.ROUTED);
        WorkerConfig config = WorkerConfig.from(Map.of(
                WorkerConfig.BOOTSTRAP_SERVERS.name(), bootstrap,
                WorkerConfig.SCHEMA_REGISTRY_URL.name(), platform.schemaRegistryUrl(),
                WorkerConfig.MODEL_DIR.name(), demo.backbone().toString(),
                WorkerConfig.ADAPTER_DIR.name(), demo.adapters().toString(),
                WorkerConfig.GROUP_ID.name(), group,
                WorkerConfig.WORKER_ID.name(), "node-it-worker"));
        try (InferenceEngine engine = Components.engine(config);
             RouterApp router = Components.router(c, work.resolve("router"));
             Worker worker = new Worker(config, engine);
             InferenceClient client = Components.client(c);
             OpenAiServer http = Components.http(client, 0)) {
            AdapterCatalog.publish(c, new HttpSchemaRegistryClient(platform.schemaRegistryUrl()), AdapterCatalog.describe(engine, demo.adapters()));
            router.start();
            worker.start();
            http.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!client.adapters().containsKey("dermatology") && System.nanoTime() < deadline) Thread.sleep(100);

            Process node = new ProcessBuilder("node", "check.mjs", "http://127.0.0.1:" + http.port() + "/v1", "dermatology")
                    .directory(CLIENT.toFile()).redirectErrorStream(true).start();
            boolean done = node.waitFor(3, TimeUnit.MINUTES);
            String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            Files.writeString(Path.of("target", "openai-node-client.txt"), output);
            if (!done) node.destroyForcibly();
            assertThat(done).as("node finished; output so far:\n%s", output).isTrue();
            assertThat(node.exitValue()).as("node check.mjs exit code; output:\n%s", output).isZero();
            List<String> lines = output.lines().filter(l -> l.startsWith("{")).toList();
            assertThat(lines.getLast()).isEqualTo("{\"ok\":true}");
            assertThat(output).contains("\"call\":\"chat stream\"", "\"call\":\"chat stream helper\"", "\"call\":\"completion stream\"", "\"call\":\"logprobs\"", "\"call\":\"n\"", "\"call\":\"penalties\"",
                    "\"call\":\"unknown model stream\"", "\"call\":\"stop\"");
        }
    }

    private static void ensureClientInstalled() throws IOException, InterruptedException {
        if (Files.isDirectory(CLIENT.resolve("node_modules").resolve("openai"))) return;
        Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(CLIENT.toFile()).inheritIO().start();
        assertThat(npm.waitFor(5, TimeUnit.MINUTES)).as("npm ci in %s finished", CLIENT).isTrue();
        assertThat(npm.exitValue()).as("npm ci in %s (the official OpenAI client from npm)", CLIENT).isZero();
    }
}
