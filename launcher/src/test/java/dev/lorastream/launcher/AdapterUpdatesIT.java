package dev.lorastream.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.demo.DemoModels;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.Requests;
import dev.lorastream.ingest.http.OpenAiServer;
import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.router.RouterApp;
import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.EngineFactory;
import dev.lorastream.worker.Worker;
import dev.lorastream.worker.WorkerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Adapters added, replaced and removed while the pipeline serves, through vLLM's HTTP requests and
 * through {@code ./pipeline adapters}: real router, worker (the ONNX engine on the CPU, demo
 * backbone), broker, registry and HTTP endpoint, nothing restarted. An added adapter answers within
 * seconds; a new version replaces the old one (every later request is attributed to the new
 * version); a removed one is refused with UNKNOWN_ADAPTER and leaves the engine's tiers; /v1/models
 * follows; refused loads name the parameter and are dead-lettered.
 */
class AdapterUpdatesIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path work;

    @Test
    void adaptersComeGoAndChangeVersionWhileThePipelineServes() throws Exception {
        KafkaPlatform platform = TestPlatform.shared();
        String bootstrap = platform.bootstrapServers();
        TopicSetup.ensure(bootstrap, 4, (short) 1);
        var registry = new HttpSchemaRegistryClient(platform.schemaRegistryUrl());
        Topics.declareSubjects(registry);
        String run = UUID.randomUUID().toString().substring(0, 8);
        DemoModels.Paths demo = DemoModels.write(work.resolve("models"));
        Path store = work.resolve("store");
        copyTree(demo.adapters(), store);
        Connection c = new Connection(bootstrap, platform.schemaRegistryUrl());
        WorkerConfig config = WorkerConfig.from(Map.of(
                WorkerConfig.BOOTSTRAP_SERVERS.name(), bootstrap,
                WorkerConfig.SCHEMA_REGISTRY_URL.name(), platform.schemaRegistryUrl(),
                WorkerConfig.GROUP_ID.name(), "adapters-" + run,
                WorkerConfig.WORKER_ID.name(), "adapters-" + run,
                WorkerConfig.MODEL_DIR.name(), demo.backbone().toString(),
                WorkerConfig.ADAPTER_DIR.name(), store.toString()));
        String id = "derm-" + run;
        var attributionFrom = TopicReader.endOffsets(bootstrap, Topics.ATTRIBUTION);
        var dlqFrom = TopicReader.endOffsets(bootstrap, Topics.DLQ);
        TopicReader.startGroupAtEnd(bootstrap, "adapters-" + run, Topics.ROUTED);
        try (InferenceEngine engine = EngineFactory.open(config);
             RouterApp router = Components.router(c, work.resolve("router"));
             Worker worker = new Worker(config, engine);
             InferenceClient client = Components.client(c);
             OpenAiServer http = Components.http(client, 0)) {
            AdapterCatalog.publish(c, registry, AdapterCatalog.describe(engine, store)); // as ./pipeline up does
            AdapterManager manager = new AdapterManager(c, registry, demo.backbone(), store, 64, client::adapters);
            http.adapterAdmin(manager);
            router.start();
            worker.start();
            http.start();
            String base = "http://127.0.0.1:" + http.port();

            // added over HTTP: servable within seconds, without a restart; listed by /v1/models
            HttpResponse<String> load = post(base + "/v1/load_lora_adapter",
                    "{\"lora_name\":\"" + id + "\",\"lora_path\":\"" + demo.adapters().resolve("dermatology") + "\"}");
            assertThat(load.statusCode()).as(load.body()).isEqualTo(200);
            assertThat(load.body()).startsWith("Success: LoRA adapter '" + id + "' added successfully");
            long added = System.nanoTime();
            HttpResponse<String> first = post(base + "/v1/completions", "{\"model\":\"" + id + "\",\"prompt\":\"skin\",\"max_tokens\":4}");
            assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
            assertThat((System.nanoTime() - added) / 1e9).as("seconds from the add to the first answer").isLessThan(10);
            assertThat(modelIds(base)).contains(id);
            assertThat(engine.adapterIds()).contains(id);
            String v1 = client.adapters().get(id).getVersion();

            // other files under the same declared version are refused: attribution could not tell them apart
            HttpResponse<String> sameVersion = post(base + "/v1/load_lora_adapter",
                    "{\"lora_name\":\"" + id + "\",\"lora_path\":\"" + demo.adapters().resolve("cardiology") + "\"}");
            assertThat(sameVersion.statusCode()).as(sameVersion.body()).isEqualTo(400);
            assertThat(sameVersion.body()).contains("declare a new version");
            // a new version (other weights, no declared version: their hash names it): every request after the add is served and attributed by it
            Path v2Files = work.resolve("cardiology-v2");
            copyTree(demo.adapters().resolve("cardiology"), v2Files);
            Files.delete(v2Files.resolve("lorastream.json"));
            HttpResponse<String> replace = post(base + "/v1/load_lora_adapter",
                    "{\"lora_name\":\"" + id + "\",\"lora_path\":\"" + v2Files + "\"}");
            assertThat(replace.statusCode()).as(replace.body()).isEqualTo(200);
            String v2 = client.adapters().get(id).getVersion();
            assertThat(v2).isNotEqualTo(v1);
            await().atMost(Duration.ofSeconds(10)).until(() -> v2.equals(engine.adapterVersion(id)));
            Set<String> afterReplace = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                InferenceResponse r = client.call(Requests.text("acme", id, "heart " + i, 3), Duration.ofSeconds(60));
                assertThat(r.getStatus()).as(String.valueOf(r.getError())).isEqualTo(ResponseStatus.OK);
                afterReplace.add(r.getRequestId());
            }
            List<ConsumerRecord<String, AttributionEvent>> events = TopicReader.read(bootstrap, attributionFrom,
                    new AvroDeserializer<>(registry, AttributionEvent.class),
                    got -> got.stream().filter(e -> afterReplace.contains(e.value().getRequestId())).count() >= afterReplace.size(), Duration.ofSeconds(30));
            assertThat(events.stream().map(ConsumerRecord::value).filter(e -> afterReplace.contains(e.getRequestId())).map(AttributionEvent::getAdapterVersion))
                    .as("attributed versions after the replacement").isNotEmpty().containsOnly(v2);

            // the command line lists it, as the catalog does
            StringWriter listed = new StringWriter();
            var cli = Pipeline.commandLine(Map.of());
            cli.setOut(new PrintWriter(listed));
            assertThat(cli.execute("adapters", "--bootstrap-servers", bootstrap, "--schema-registry", platform.schemaRegistryUrl(),
                    "--model", demo.backbone().toString(), "--adapters", store.toString(), "list")).isZero();
            assertThat(listed.toString()).contains(id).contains(v2).contains("dermatology");

            // refused loads: the parameter named, the caller told, a dead letter written, nothing changed
            HttpResponse<String> missing = post(base + "/v1/load_lora_adapter", "{\"lora_name\":\"x-" + run + "\",\"lora_path\":\"" + work.resolve("nowhere") + "\"}");
            assertThat(missing.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(missing.body()).path("error").path("param").asText()).isEqualTo("lora_path");
            Path foreign = work.resolve("foreign");
            copyTree(demo.adapters().resolve("nutrition"), foreign);
            Files.writeString(foreign.resolve("adapter_config.json"),
                    Files.readString(foreign.resolve("adapter_config.json")).replaceAll("\"r\"\\s*:\\s*\\d+", "\"r\": 128"));
            HttpResponse<String> tooWide = post(base + "/v1/load_lora_adapter", "{\"lora_name\":\"wide-" + run + "\",\"lora_path\":\"" + foreign + "\"}");
            assertThat(tooWide.statusCode()).as(tooWide.body()).isEqualTo(400);
            assertThat(tooWide.body()).contains("lora_path");
            HttpResponse<String> badName = post(base + "/v1/load_lora_adapter", "{\"lora_name\":\".hidden\",\"lora_path\":\"" + demo.adapters().resolve("dermatology") + "\"}");
            assertThat(badName.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(badName.body()).path("error").path("param").asText()).isEqualTo("lora_name");
            assertThat(engine.adapterIds()).doesNotContain("x-" + run, "wide-" + run, ".hidden");
            List<ConsumerRecord<String, DeadLetter>> letters = TopicReader.read(bootstrap, dlqFrom, new AvroDeserializer<>(registry, DeadLetter.class),
                    got -> got.stream().filter(l -> "http:POST /v1/load_lora_adapter".equals(l.value().getSourceTopic())).count() >= 4, Duration.ofSeconds(20));
            assertThat(letters.stream().map(ConsumerRecord::value).filter(l -> "http:POST /v1/load_lora_adapter".equals(l.getSourceTopic())))
                    .extracting(DeadLetter::getField).contains("lora_path", "lora_name", "version");

            // removed: refused by the endpoint and, sent straight to Kafka, by the worker; gone from the tiers and /v1/models
            HttpResponse<String> unload = post(base + "/v1/unload_lora_adapter", "{\"lora_name\":\"" + id + "\"}");
            assertThat(unload.statusCode()).as(unload.body()).isEqualTo(200);
            assertThat(modelIds(base)).doesNotContain(id);
            HttpResponse<String> gone = post(base + "/v1/completions", "{\"model\":\"" + id + "\",\"prompt\":\"skin\",\"max_tokens\":4}");
            assertThat(gone.statusCode()).isEqualTo(404);
            await().atMost(Duration.ofSeconds(10)).until(() -> !engine.adapterIds().contains(id));
            InferenceResponse refused = client.call(Requests.text("acme", id, "skin", 3), Duration.ofSeconds(60));
            assertThat(refused.getStatus()).isEqualTo(ResponseStatus.ERROR);
            assertThat(refused.getError().getCode()).isEqualTo(ErrorCode.UNKNOWN_ADAPTER.name());
            assertThat(engine.residentAdapterIds()).doesNotContain(id);
            HttpResponse<String> twice = post(base + "/v1/unload_lora_adapter", "{\"lora_name\":\"" + id + "\"}");
            assertThat(twice.statusCode()).isEqualTo(404);
        }
    }

    private static HttpResponse<String> post(String url, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> modelIds(String base) throws Exception {
        JsonNode models = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/models")).GET().build(), HttpResponse.BodyHandlers.ofString()).body());
        List<String> ids = new ArrayList<>();
        models.path("data").forEach(m -> ids.add(m.path("id").asText()));
        return ids;
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }
}
