package dev.lorastream.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.engine.demo.DemoModels;
import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@code ./pipeline http --model DIR --adapters DIR} on its own (not inside {@code up}): the command as the launcher
 * parses it, against the real broker and registry, takes vLLM's {@code /v1/load_lora_adapter} and
 * {@code /v1/unload_lora_adapter}, copies the adapter into the store given, publishes the catalog, and
 * {@code /v1/models} follows; stopped, it gives its port back.
 */
class HttpCommandIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path work;

    @Test
    void theStandaloneEndpointAddsAndRemovesAdaptersAtRunTime() throws Exception {
        KafkaPlatform platform = TestPlatform.shared();
        TopicSetup.ensure(platform.bootstrapServers(), 4, (short) 1);
        Topics.declareSubjects(new HttpSchemaRegistryClient(platform.schemaRegistryUrl()));
        DemoModels.Paths demo = DemoModels.write(work.resolve("models"));
        Path store = Files.createDirectories(work.resolve("store"));
        String id = "standalone-" + UUID.randomUUID().toString().substring(0, 8);

        StringWriter out = new StringWriter();
        Thread command = new Thread(() -> Pipeline.commandLine(Map.of()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(out, true))
                .execute("http", "--bootstrap-servers", platform.bootstrapServers(), "--schema-registry", platform.schemaRegistryUrl(),
                        "--http-port", "0", "--model", demo.backbone().toString(), "--adapters", store.toString()), "http-command");
        command.start();
        Pattern listening = Pattern.compile("listening on [^:\\s]+:(\\d+)");
        await().atMost(Duration.ofSeconds(60)).until(() -> listening.matcher(out.toString()).find() || !command.isAlive());
        Matcher m = listening.matcher(out.toString());
        assertThat(m.find()).as("the command started: %s", out).isTrue();
        int port = Integer.parseInt(m.group(1));
        String base = "http://127.0.0.1:" + port;
        try {
            HttpResponse<String> loaded = post(base + "/v1/load_lora_adapter",
                    "{\"lora_name\":\"" + id + "\",\"lora_path\":\"" + demo.adapters().resolve("dermatology") + "\"}");
            assertThat(loaded.statusCode()).as(loaded.body()).isEqualTo(200);
            try (Stream<Path> files = Files.list(store.resolve(id))) {
                assertThat(files.map(p -> p.getFileName().toString())).as("copied into the store given").contains("adapter_config.json");
            }
            await().atMost(Duration.ofSeconds(15)).until(() -> modelIds(base).contains(id));

            HttpResponse<String> unloaded = post(base + "/v1/unload_lora_adapter", "{\"lora_name\":\"" + id + "\"}");
            assertThat(unloaded.statusCode()).as(unloaded.body()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(15)).until(() -> !modelIds(base).contains(id));
            assertThat(store.resolve(id)).doesNotExist();
        } finally {
            command.interrupt();
            command.join(30_000);
        }
        assertThat(command.isAlive()).isFalse();
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).as("the port is given back").isInstanceOf(ConnectException.class);
    }

    private static java.util.List<String> modelIds(String base) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).GET().build(), HttpResponse.BodyHandlers.ofString());
        java.util.List<String> ids = new java.util.ArrayList<>();
        for (JsonNode model : JSON.readTree(r.body()).path("data")) ids.add(model.path("id").asText());
        return ids;
    }

    private static HttpResponse<String> post(String url, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
