package dev.lorastream.ingest.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.ingest.InMemoryGateway;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.TestResponses;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.TokenChunk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The HTTP surface against an in-memory gateway: parsing, status codes, JSON shapes and dead letters. */
class OpenAiServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private InMemoryGateway gateway;
    private InferenceClient client;
    private OpenAiServer server;

    @BeforeEach
    void start() {
        gateway = new InMemoryGateway();
        gateway.catalog.put("dermatology", TestResponses.adapter("dermatology"));
        gateway.catalog.put("cardiology", TestResponses.adapter("cardiology"));
        gateway.respondWith(r -> TestResponses.ok(r, "generated", List.of(5, 6, 7)));
        client = new InferenceClient(gateway, Duration.ofSeconds(5));
        server = new OpenAiServer(HttpConfig.builder().port(0).maxBodyBytes(2048).requestTimeout(Duration.ofMillis(500)).build(), client);
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
        client.close();
    }

    private record Answer(int status, JsonNode body, HttpResponse<String> raw) {}

    private Answer send(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) request.headers(headers);
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), JSON.readTree(response.body()), response);
    }

    private Answer post(String path, String body, String... headers) throws Exception {
        return send("POST", path, body, headers);
    }

    private static void assertError(Answer a, int status, String param, String messagePart) {
        assertThat(a.status()).isEqualTo(status);
        JsonNode error = a.body().get("error");
        assertThat(error).isNotNull();
        assertThat(error.get("type").asText()).isEqualTo(status >= 500 ? "server_error" : "invalid_request_error");
        if (param == null) assertThat(error.get("param").isNull()).isTrue();
        else assertThat(error.get("param").asText()).isEqualTo(param);
        assertThat(error.get("message").asText()).contains(messagePart);
        assertThat(error.has("code")).isTrue();
    }

    private static TokenChunk chunk(InferenceRequest r, String attempt, int textOffset, String text) {
        return TokenChunk.newBuilder().setRequestId(r.getRequestId()).setWorkerId(attempt).setAttempt(attempt).setTokenOffset(0)
                .setTokenIds(List.of()).setTextOffset(textOffset).setText(text).setCreatedAtMs(java.time.Instant.now()).build();
    }

    /** The data of each server-sent event, in order. */
    private static List<String> events(HttpResponse<String> raw) {
        assertThat(raw.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        return java.util.Arrays.stream(raw.body().split("\n\n")).filter(e -> !e.isBlank())
                .peek(e -> assertThat(e).startsWith("data: ")).map(e -> e.substring("data: ".length())).toList();
    }

    @Test
    void aStreamedChatSendsTheRoleThenEachPieceOnceThenTheFinishReasonUsageAndDone() throws Exception {
        // a first attempt streams "gen", its worker dies; the second streams from its start: "gener", "ated"
        gateway.chunksWith(r -> List.of(chunk(r, "w1#1", 0, "gen"), chunk(r, "w2#1", 0, "gener"), chunk(r, "w2#1", 5, "ated")));
        HttpResponse<String> raw = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"dermatology\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                        + "\"stream\":true,\"stream_options\":{\"include_usage\":true}}")).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(raw.statusCode()).isEqualTo(200);
        assertThat(gateway.sent.getFirst().getParams().getStream()).isTrue();
        List<String> events = events(raw);
        assertThat(events.getLast()).isEqualTo("[DONE]");
        List<JsonNode> chunks = new java.util.ArrayList<>();
        for (String e : events.subList(0, events.size() - 1)) chunks.add(JSON.readTree(e));
        assertThat(chunks).allSatisfy(c -> assertThat(c.get("object").asText()).isEqualTo("chat.completion.chunk"));
        assertThat(chunks.getFirst().at("/choices/0/delta/role").asText()).isEqualTo("assistant");
        StringBuilder content = new StringBuilder();
        for (JsonNode c : chunks) if (c.at("/choices/0/delta/content").isTextual()) content.append(c.at("/choices/0/delta/content").asText());
        assertThat(content.toString()).isEqualTo("generated");
        JsonNode finish = chunks.get(chunks.size() - 2);
        assertThat(finish.at("/choices/0/finish_reason").asText()).isEqualTo("length");
        JsonNode usage = chunks.getLast();
        assertThat(usage.get("choices")).isEmpty();
        assertThat(usage.at("/usage/completion_tokens").asInt()).isEqualTo(3);
        assertThat(chunks).extracting(c -> c.get("id").asText()).containsOnly(chunks.getFirst().get("id").asText());
    }

    @Test
    void aStreamedCompletionWhoseChunksAreLostGetsTheTextFromTheResponse() throws Exception {
        gateway.chunksWith(r -> List.of(chunk(r, "w1#1", 0, "gen")));
        HttpResponse<String> raw = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"hi\",\"stream\":true}")).build(), HttpResponse.BodyHandlers.ofString());
        List<String> events = events(raw);
        StringBuilder text = new StringBuilder();
        for (String e : events.subList(0, events.size() - 1)) text.append(JSON.readTree(e).at("/choices/0/text").asText());
        assertThat(text.toString()).isEqualTo("generated");
        assertThat(JSON.readTree(events.get(events.size() - 2)).at("/choices/0/finish_reason").asText()).isEqualTo("length");
        assertThat(JSON.readTree(events.getFirst()).get("object").asText()).isEqualTo("text_completion");
    }

    @Test
    void aPipelineErrorDuringAStreamIsAnErrorEventThenDone() throws Exception {
        gateway.respondWith(r -> TestResponses.error(r, "UNKNOWN_ADAPTER", "adapter_id", "adapter 'dermatology' is not in the store"));
        HttpResponse<String> raw = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"dermatology\",\"prompt\":\"hi\",\"stream\":true}")).build(),
                HttpResponse.BodyHandlers.ofString());
        List<String> events = events(raw);
        assertThat(events.getLast()).isEqualTo("[DONE]");
        JsonNode error = JSON.readTree(events.get(events.size() - 2)).get("error");
        assertThat(error.get("message").asText()).contains("is not in the store");
    }

    @Test
    void streamOptionsWithoutStreamAndAStreamThatIsNotABooleanAreRefusedNamingThem() throws Exception {
        assertError(post("/v1/completions", "{\"prompt\":\"hi\",\"stream_options\":{\"include_usage\":true}}"), 400, "stream_options", "stream: true");
        assertError(post("/v1/completions", "{\"prompt\":\"hi\",\"stream\":\"yes\"}"), 400, "stream", "boolean");
        assertError(post("/v1/completions", "{\"prompt\":\"hi\",\"stream\":true,\"stream_options\":{\"x\":1}}"), 400, "stream_options.x", "");
        assertError(post("/v1/completions", "{\"prompt\":\"hi\",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}"), 400, "stop", "at most 4");
        assertThat(gateway.deadLetters).extracting(d -> d.getField()).containsExactly("stream_options", "stream", "stream_options.x", "stop");
        assertThat(gateway.sent).as("nothing refused reached the pipeline").isEmpty();
    }

    @Test
    void oneModelIsDescribedByItsIdAndAnUnknownOneIs404() throws Exception {
        Answer adapter = send("GET", "/v1/models/dermatology", null);
        assertThat(adapter.status()).isEqualTo(200);
        assertThat(adapter.body().get("id").asText()).isEqualTo("dermatology");
        assertThat(adapter.body().get("object").asText()).isEqualTo("model");
        assertThat(adapter.body().has("rank")).isTrue();
        assertThat(adapter.body().has("version")).isTrue();
        assertThat(adapter.body().has("base_model")).isTrue();
        assertThat(adapter.body().get("max_model_len").asInt()).isEqualTo(16_384);
        Answer backbone = send("GET", "/v1/models/base", null);
        assertThat(backbone.status()).isEqualTo(200);
        assertThat(backbone.body().get("parent").isNull()).isTrue();
        assertError(send("GET", "/v1/models/radiology", null), 404, "model", "radiology");
        assertThat(send("POST", "/v1/models/dermatology", "{}").status()).isEqualTo(405);
    }

    @Test
    void healthAndReadyAnswer200() throws Exception {
        Answer health = send("GET", "/health", null);
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.body().get("status").asText()).isEqualTo("ok");
        Answer ready = send("GET", "/ready", null);
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.body().get("adapters").asInt()).isEqualTo(2);
        assertThat(send("POST", "/health", "{}").status()).isEqualTo(405);
    }

    @Test
    void completionIsAnsweredInOpenAiShape() throws Exception {
        Answer a = post("/v1/completions", "{\"model\":\"dermatology\",\"prompt\":\"itchy\",\"max_tokens\":3,\"user\":\"acme\"}");

        assertThat(a.status()).isEqualTo(200);
        InferenceRequest sent = gateway.sent.getFirst();
        JsonNode body = a.body();
        assertThat(body.get("id").asText()).isEqualTo("cmpl-" + sent.getRequestId());
        assertThat(body.get("object").asText()).isEqualTo("text_completion");
        assertThat(body.get("created").asLong()).isPositive();
        assertThat(body.get("model").asText()).isEqualTo("dermatology");
        assertThat(body.at("/choices/0/index").asInt()).isZero();
        assertThat(body.at("/choices/0/text").asText()).isEqualTo("generated");
        assertThat(body.at("/choices/0/finish_reason").asText()).isEqualTo("length");
        assertThat(body.at("/usage/prompt_tokens").asInt()).isEqualTo(5);
        assertThat(body.at("/usage/completion_tokens").asInt()).isEqualTo(3);
        assertThat(body.at("/usage/total_tokens").asInt()).isEqualTo(8);
        assertThat(a.raw().headers().firstValue("X-Request-Id")).contains(sent.getRequestId());
        assertThat(sent.getAdapterId()).isEqualTo("dermatology");
        assertThat(sent.getTenant()).isEqualTo("acme");
        assertThat(sent.getParams().getMaxNewTokens()).isEqualTo(3);
        assertThat(sent.getDeadlineMs()).isNotNull();
        assertThat(gateway.deadLetters).isEmpty();
    }

    @Test
    void chatCompletionIsAnsweredWithAnAssistantMessage() throws Exception {
        Answer a = post("/v1/chat/completions", "{\"model\":\"base\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
                "X-Tenant", "team-a");

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.body().get("object").asText()).isEqualTo("chat.completion");
        assertThat(a.body().get("id").asText()).startsWith("chatcmpl-");
        assertThat(a.body().get("model").asText()).isEqualTo("base");
        assertThat(a.body().at("/choices/0/message/role").asText()).isEqualTo("assistant");
        assertThat(a.body().at("/choices/0/message/content").asText()).isEqualTo("generated");
        InferenceRequest sent = gateway.sent.getFirst();
        assertThat(sent.getPrompt()).isEqualTo("<|user|>\nHi\n<|assistant|>\n");
        assertThat(sent.getAdapterId()).isNull();
        assertThat(sent.getTenant()).isEqualTo("team-a");
    }

    @Test
    void modelsListTheBackboneAndTheCatalog() throws Exception {
        Answer a = send("GET", "/v1/models", null);

        assertThat(a.status()).isEqualTo(200);
        assertThat(a.body().get("object").asText()).isEqualTo("list");
        assertThat(a.body().get("data").findValuesAsText("id")).containsExactly("base", "cardiology", "dermatology");
        assertThat(a.body().at("/data/1/object").asText()).isEqualTo("model");
        assertThat(a.body().at("/data/1/parent").asText()).isEqualTo("base");
        assertThat(a.body().at("/data/1/root").asText()).isEqualTo("demo-backbone");
    }

    @Test
    void invalidJsonIs400AndDeadLettered() throws Exception {
        String body = "{\"prompt\": \"hi\"";

        Answer a = post("/v1/completions", body);

        assertError(a, 400, null, "not valid JSON");
        assertThat(a.body().at("/error/code").asText()).isEqualTo("invalid_json");
        DeadLetter letter = gateway.deadLetters.getFirst();
        assertThat(letter.getComponent()).isEqualTo("ingest");
        assertThat(letter.getSourceTopic()).isEqualTo("http:POST /v1/completions");
        assertThat(letter.getSourcePartition()).isEqualTo(-1);
        assertThat(letter.getSourceOffset()).isEqualTo(-1L);
        assertThat(StandardCharsets.UTF_8.decode(letter.getOriginalValue()).toString()).isEqualTo(body);
        assertThat(letter.getErrorCode()).isEqualTo("MALFORMED_RECORD");
        assertThat(letter.getReason()).contains("not valid JSON");
        assertThat(letter.getRequestId()).isEqualTo(a.raw().headers().firstValue("X-Request-Id").orElseThrow());
        assertThat(gateway.sent).isEmpty();
    }

    @Test
    void maxTokensBelowOneIs400NamingTheFieldAndDeadLettered() throws Exception {
        Answer a = post("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":0}");

        assertError(a, 400, "max_tokens", "at least 1");
        DeadLetter letter = gateway.deadLetters.getFirst();
        assertThat(letter.getField()).isEqualTo("max_tokens");
        assertThat(letter.getErrorCode()).isEqualTo("BAD_PARAMETER");
    }

    @Test
    void temperatureOutOfRangeIs400() throws Exception {
        assertError(post("/v1/completions", "{\"prompt\":\"hi\",\"temperature\":3}"), 400, "temperature", "between 0 and 2");
    }

    @Test
    void emptyChatMessagesIs400AndDeadLetteredWithTheChatSource() throws Exception {
        assertError(post("/v1/chat/completions", "{\"messages\":[]}"), 400, "messages", "must not be empty");
        assertThat(gateway.deadLetters.getFirst().getSourceTopic()).isEqualTo("http:POST /v1/chat/completions");
    }

    @Test
    void unknownModelIs404AndDeadLettered() throws Exception {
        assertError(post("/v1/completions", "{\"prompt\":\"hi\",\"model\":\"oncology\"}"), 404, "model", "oncology");
        assertThat(gateway.deadLetters.getFirst().getErrorCode()).isEqualTo("UNKNOWN_ADAPTER");
        assertThat(gateway.sent).isEmpty();
    }

    @Test
    void pipelineUnknownAdapterErrorIs404() throws Exception {
        gateway.respondWith(r -> TestResponses.error(r, "UNKNOWN_ADAPTER", "adapter_id", "adapter 'dermatology' is not loadable"));

        Answer a = post("/v1/completions", "{\"prompt\":\"hi\",\"model\":\"dermatology\"}");

        assertError(a, 404, "model", "not loadable");
        assertThat(a.body().at("/error/code").asText()).isEqualTo("unknown_adapter");
        assertThat(gateway.deadLetters).as("the pipeline dead-letters its own refusals").isEmpty();
    }

    @Test
    void pipelinePromptTooLongErrorIs400NamingThePromptField() throws Exception {
        gateway.respondWith(r -> TestResponses.error(r, "PROMPT_TOO_LONG", "prompt", "prompt has 9000 tokens; the limit is 2048"));

        assertError(post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"long\"}]}"), 400, "messages", "9000 tokens");
    }

    @Test
    void pipelineBadParameterErrorIs400NamingTheOpenAiParameter() throws Exception {
        gateway.respondWith(r -> TestResponses.error(r, "BAD_PARAMETER", "params.max_new_tokens", "too many tokens"));

        assertError(post("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":99999}"), 400, "max_tokens", "too many tokens");
    }

    @Test
    void pipelineDeadlineExceededIs504() throws Exception {
        gateway.respondWith(r -> TestResponses.error(r, "DEADLINE_EXCEEDED", null, "expired in queue"));

        assertError(post("/v1/completions", "{\"prompt\":\"hi\"}"), 504, null, "expired in queue");
    }

    @Test
    void kafkaNotTakingTheRequestIs503WithRetryAfter() throws Exception {
        gateway.failSends(new org.apache.kafka.common.errors.TimeoutException("Topic inference.requests not present in metadata after 15000 ms."));
        Answer answer = post("/v1/completions", "{\"model\":\"dermatology\",\"prompt\":\"hi\"}");
        assertError(answer, 503, null, "not taken by Kafka");
        assertThat(answer.raw().headers().firstValue("Retry-After")).hasValue("1");
    }

    @Test
    void pipelineInternalErrorIs500() throws Exception {
        gateway.respondWith(r -> TestResponses.error(r, "INTERNAL", null, "engine crashed"));

        assertError(post("/v1/completions", "{\"prompt\":\"hi\"}"), 500, null, "engine crashed");
    }

    @Test
    void noResponseInTimeIs504() throws Exception {
        gateway.respondWith(r -> null);

        Answer a = post("/v1/completions", "{\"prompt\":\"hi\"}");

        assertError(a, 504, null, "no response for request");
        assertThat(a.body().at("/error/code").asText()).isEqualTo("timeout");
    }

    @Test
    void wrongMethodIs405() throws Exception {
        Answer get = send("GET", "/v1/completions", null);
        Answer post = post("/v1/models", "{}");

        assertError(get, 405, null, "GET");
        assertThat(get.raw().headers().firstValue("Allow")).contains("POST");
        assertError(post, 405, null, "POST");
        assertThat(gateway.deadLetters).isEmpty();
    }

    @Test
    void unknownPathIs404() throws Exception {
        assertError(post("/v1/embeddings", "{}"), 404, null, "/v1/embeddings");
    }

    @Test
    void oversizedBodyIs413AndDeadLettered() throws Exception {
        String body = "{\"prompt\":\"" + "x".repeat(3000) + "\"}";

        Answer a = post("/v1/completions", body);

        assertError(a, 413, null, "limit is 2048 bytes");
        assertThat(gateway.deadLetters.getFirst().getReason()).contains("2048");
        assertThat(gateway.sent).isEmpty();
    }

    @Test
    void catalogIsNotConsultedWhileItIsEmpty() throws Exception {
        gateway.catalog.clear();

        assertThat(post("/v1/completions", "{\"prompt\":\"hi\",\"model\":\"oncology\"}").status()).isEqualTo(200);
        assertThat(gateway.sent.getFirst().getAdapterId()).isEqualTo("oncology");
    }
}
