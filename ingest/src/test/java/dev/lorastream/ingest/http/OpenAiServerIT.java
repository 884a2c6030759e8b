package dev.lorastream.ingest.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.ingest.ClientConfig;
import dev.lorastream.ingest.FakeWorker;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.IngestTestAnswers;
import dev.lorastream.ingest.TestResponses;
import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The HTTP endpoint end to end: HTTP in, Kafka request, fake worker, Kafka response, HTTP out; refusals on the DLQ. */
class OpenAiServerIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static KafkaPlatform platform;
    private static Topics topics;
    private static FakeWorker worker;
    private static InferenceClient client;
    private static OpenAiServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        platform = TestPlatform.shared();
        TopicSetup.ensure(platform.bootstrapServers(), 4, (short) 1);
        topics = new Topics(new HttpSchemaRegistryClient(platform.schemaRegistryUrl()));
        worker = new FakeWorker(platform.bootstrapServers(), topics, IngestTestAnswers::answer);
        client = new InferenceClient(ClientConfig.builder(platform.bootstrapServers(), platform.schemaRegistryUrl())
                .clientId("http-it-" + UUID.randomUUID()).build());
        server = new OpenAiServer(HttpConfig.builder().port(0).requestTimeout(WAIT).build(), client);
        server.start();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (server != null) server.close();
        if (client != null) client.close();
        if (worker != null) worker.close();
    }

    private record Answer(int status, JsonNode body, String requestId) {}

    private Answer send(String method, String path, String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), JSON.readTree(response.body()), response.headers().firstValue("X-Request-Id").orElse(null));
    }

    @Test
    void completionGoesThroughKafkaAndBack() throws Exception {
        String prompt = "http " + UUID.randomUUID();

        Answer a = send("POST", "/v1/completions", JSON.createObjectNode().put("prompt", prompt).put("max_tokens", 3).toString());

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.body().get("object").asText()).isEqualTo("text_completion");
        assertThat(a.body().get("id").asText()).isEqualTo("cmpl-" + a.requestId());
        assertThat(a.body().get("model").asText()).isEqualTo("base");
        assertThat(a.body().at("/choices/0/text").asText()).isEqualTo("echo: " + prompt);
        assertThat(a.body().at("/usage/completion_tokens").asInt()).isEqualTo(3);
        assertThat(a.body().at("/usage/total_tokens").asInt()).isEqualTo(prompt.length() + 3);
    }

    @Test
    void chatCompletionGoesThroughKafkaAndBack() throws Exception {
        String question = "chat " + UUID.randomUUID();
        String body = "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"" + question + "\"}]}";

        Answer a = send("POST", "/v1/chat/completions", body);

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.body().get("object").asText()).isEqualTo("chat.completion");
        assertThat(a.body().at("/choices/0/message/role").asText()).isEqualTo("assistant");
        assertThat(a.body().at("/choices/0/message/content").asText())
                .isEqualTo("echo: <|system|>\nBe brief.\n<|user|>\n" + question + "\n<|assistant|>\n");
    }

    @Test
    void badBodyIs400AndLandsOnTheDeadLetterTopic() throws Exception {
        String body = "{\"prompt\":\"hi\",\"max_tokens\":0,\"user\":\"" + UUID.randomUUID() + "\"}";

        Answer a = send("POST", "/v1/completions", body);

        assertThat(a.status()).isEqualTo(400);
        assertThat(a.body().at("/error/param").asText()).isEqualTo("max_tokens");
        assertThat(a.body().at("/error/type").asText()).isEqualTo("invalid_request_error");
        DeadLetter letter = awaitDeadLetter(a.requestId());
        assertThat(letter.getComponent()).isEqualTo("ingest");
        assertThat(letter.getSourceTopic()).isEqualTo("http:POST /v1/completions");
        assertThat(letter.getSourcePartition()).isEqualTo(-1);
        assertThat(letter.getSourceOffset()).isEqualTo(-1L);
        assertThat(letter.getErrorCode()).isEqualTo("BAD_PARAMETER");
        assertThat(letter.getField()).isEqualTo("max_tokens");
        assertThat(letter.getReason()).contains("at least 1");
        assertThat(StandardCharsets.UTF_8.decode(letter.getOriginalValue()).toString()).isEqualTo(body);
    }

    @Test
    void invalidJsonChatBodyIs400AndDeadLettered() throws Exception {
        Answer a = send("POST", "/v1/chat/completions", "{not json");

        assertThat(a.status()).isEqualTo(400);
        assertThat(a.body().at("/error/code").asText()).isEqualTo("invalid_json");
        DeadLetter letter = awaitDeadLetter(a.requestId());
        assertThat(letter.getSourceTopic()).isEqualTo("http:POST /v1/chat/completions");
        assertThat(letter.getErrorCode()).isEqualTo("MALFORMED_RECORD");
    }

    @Test
    void catalogAdaptersAreListedServedAndOthersRefused() throws Exception {
        String adapter = "it-adapter-" + UUID.randomUUID();
        publish(TestResponses.adapter(adapter));
        awaitModel(adapter);

        Answer served = send("POST", "/v1/completions", "{\"model\":\"" + adapter + "\",\"prompt\":\"hello\"}");
        Answer unknown = send("POST", "/v1/completions", "{\"model\":\"not-" + adapter + "\",\"prompt\":\"hello\"}");

        assertThat(served.status()).isEqualTo(200);
        assertThat(served.body().get("model").asText()).isEqualTo(adapter);
        assertThat(served.body().at("/choices/0/text").asText()).isEqualTo("echo[" + adapter + "]: hello");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.body().at("/error/code").asText()).isEqualTo("model_not_found");
        assertThat(awaitDeadLetter(unknown.requestId()).getErrorCode()).isEqualTo("UNKNOWN_ADAPTER");
    }

    @Test
    void unknownAdapterErrorFromThePipelineIs404() throws Exception {
        String adapter = "it-gone-" + UUID.randomUUID();
        publish(TestResponses.adapter(adapter));
        awaitModel(adapter);

        Answer a = send("POST", "/v1/completions", "{\"model\":\"" + adapter + "\",\"prompt\":\"hello\"}");

        assertThat(a.status()).isEqualTo(404);
        assertThat(a.body().at("/error/code").asText()).isEqualTo("unknown_adapter");
        assertThat(a.body().at("/error/param").asText()).isEqualTo("model");
        assertThat(a.body().at("/error/message").asText()).contains("cannot be loaded");
    }

    @Test
    void pipelineBadParameterIs400NamingTheParameter() throws Exception {
        Answer a = send("POST", "/v1/completions", "{\"prompt\":\"fail " + UUID.randomUUID() + "\",\"temperature\":1.5}");

        assertThat(a.status()).isEqualTo(400);
        assertThat(a.body().at("/error/param").asText()).isEqualTo("temperature");
        assertThat(a.body().at("/error/code").asText()).isEqualTo("bad_parameter");
    }

    @Test
    void withKeysTheRequestOnKafkaBillsTheKeysTenantWhateverTheBodySays(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path keys = dir.resolve("keys");
        String key = dev.lorastream.ingest.http.auth.ApiKeys.newKey();
        dev.lorastream.ingest.http.auth.KeyFile.append(keys, dev.lorastream.ingest.http.auth.ApiKeys.hash(key) + " it-tenant-" + UUID.randomUUID());
        String tenant = java.nio.file.Files.readAllLines(keys).getLast().split(" ")[1];
        try (OpenAiServer keyed = new OpenAiServer(HttpConfig.builder().port(0).requestTimeout(WAIT).keysFile(keys).build(), client)) {
            keyed.start();
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + keyed.port() + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"keyed\",\"max_tokens\":2,\"user\":\"someone-else\"}"));

            HttpResponse<String> refused = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> served = http.send(request.header("Authorization", "Bearer " + key).build(), HttpResponse.BodyHandlers.ofString());

            assertThat(refused.statusCode()).isEqualTo(401);
            assertThat(served.statusCode()).isEqualTo(200);
            assertThat(JSON.readTree(served.body()).at("/choices/0/text").asText()).isEqualTo("echo: keyed");
            String requestId = served.headers().firstValue("X-Request-Id").orElseThrow();
            assertThat(awaitRequest(requestId).getTenant()).isEqualTo(tenant);
        }
    }

    private static dev.lorastream.schemas.InferenceRequest awaitRequest(String requestId) {
        try (KafkaConsumer<String, dev.lorastream.schemas.InferenceRequest> consumer = new KafkaConsumer<>(
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(), ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                topics.requests.keySerde().deserializer(), topics.requests.valueSerde().deserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.REQUESTS).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, dev.lorastream.schemas.InferenceRequest> record : consumer.poll(Duration.ofMillis(200))) {
                    if (requestId.equals(record.key())) return record.value();
                }
            }
        }
        throw new AssertionError("no request " + requestId + " on " + Topics.REQUESTS);
    }

    private static void publish(AdapterDescriptor descriptor) throws Exception {
        try (KafkaProducer<String, AdapterDescriptor> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers()),
                topics.adapterCatalog.keySerde().serializer(), topics.adapterCatalog.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(Topics.ADAPTER_CATALOG, descriptor.getAdapterId(), descriptor)).get();
        }
    }

    private void awaitModel(String id) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (send("GET", "/v1/models", null).body().get("data").findValuesAsText("id").contains(id)) return;
            Thread.sleep(100);
        }
        throw new AssertionError("model " + id + " never appeared in /v1/models");
    }

    private static DeadLetter awaitDeadLetter(String requestId) {
        try (KafkaConsumer<String, DeadLetter> consumer = new KafkaConsumer<>(
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(), ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                topics.dlq.keySerde().deserializer(), topics.dlq.valueSerde().deserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.DLQ).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, DeadLetter> record : consumer.poll(Duration.ofMillis(200))) {
                    if (requestId.equals(record.key())) {
                        assertThat(record.value().getRequestId()).isEqualTo(requestId);
                        return record.value();
                    }
                }
            }
        }
        throw new AssertionError("no dead letter for request " + requestId + " on " + Topics.DLQ);
    }
}
