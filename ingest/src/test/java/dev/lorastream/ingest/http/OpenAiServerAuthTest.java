package dev.lorastream.ingest.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.ingest.InMemoryGateway;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.TestResponses;
import dev.lorastream.ingest.http.auth.ApiKeys;
import dev.lorastream.ingest.http.auth.KeyFile;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** API keys, tenants from keys, model allow-lists and rate limits on the HTTP surface (an in-memory gateway behind it). */
class OpenAiServerAuthTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NORTH = "lsk-north-key-of-the-test", WELLNESS = "lsk-wellness-key-of-the-test", OPS = "lsk-ops-key-of-the-test",
            TOKENS = "lsk-tokens-key-of-the-test";
    private static final String COMPLETION = "{\"model\":\"dermatology\",\"prompt\":\"itchy rash\",\"max_tokens\":4}";

    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newHttpClient();
    private InMemoryGateway gateway;
    private InferenceClient client;
    private OpenAiServer server;
    private Path keys;

    private void start(UnaryOperator<HttpConfig.Builder> settings) {
        keys = dir.resolve("keys");
        KeyFile.append(keys, ApiKeys.hash(NORTH) + " clinic-north models=dermatology,base");
        KeyFile.append(keys, ApiKeys.hash(WELLNESS) + " wellness-app rps=1 tpm=120");
        KeyFile.append(keys, ApiKeys.hash(OPS) + " ops admin");
        KeyFile.append(keys, ApiKeys.hash(TOKENS) + " tokens-app tpm=120");
        gateway = new InMemoryGateway();
        gateway.catalog.put("dermatology", TestResponses.adapter("dermatology"));
        gateway.catalog.put("cardiology", TestResponses.adapter("cardiology"));
        gateway.respondWith(r -> TestResponses.ok(r, "generated", List.of(5, 6, 7)));
        client = new InferenceClient(gateway, Duration.ofSeconds(5));
        server = new OpenAiServer(settings.apply(HttpConfig.builder().port(0).keysFile(keys).keysReload(Duration.ofMillis(20))
                .requestTimeout(Duration.ofMillis(500))).build(), client);
        server.start();
    }

    private void start() { start(b -> b); }

    @AfterEach
    void stop() {
        if (server != null) server.close();
        if (client != null) client.close();
    }

    private record Answer(int status, JsonNode body, HttpResponse<String> raw) {
        String error(String field) { return body.at("/error/" + field).asText(); }
    }

    private Answer send(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) request.headers(headers);
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        boolean json = response.headers().firstValue("Content-Type").orElse("").startsWith("application/json");
        return new Answer(response.statusCode(), json ? JSON.readTree(response.body()) : JSON.nullNode(), response);
    }

    private Answer complete(String key, String body, String... headers) throws Exception {
        List<String> all = new java.util.ArrayList<>(List.of(headers));
        if (key != null) all.addAll(List.of("Authorization", "Bearer " + key));
        return send("POST", "/v1/completions", body, all.toArray(String[]::new));
    }

    @Test
    void aMissingOrUnknownKeyIs401InOpenAisShapeAndNothingIsSentOrDeadLettered() throws Exception {
        start();
        for (Answer a : List.of(complete(null, COMPLETION), complete("lsk-guessed", COMPLETION),
                send("GET", "/v1/models", null, "Authorization", "Basic " + NORTH), send("GET", "/v1/models", null))) {
            assertThat(a.status()).isEqualTo(401);
            assertThat(a.raw().headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
            assertThat(a.error("type")).isEqualTo("invalid_request_error");
            assertThat(a.error("code")).isEqualTo("invalid_api_key");
            assertThat(a.body().at("/error/param").isNull()).isTrue();
        }
        assertThat(complete("lsk-guessed-key-value", COMPLETION).error("message")).isEqualTo("Incorrect API key provided: lsk-*************alue.");
        assertThat(gateway.sent).isEmpty();
        assertThat(gateway.deadLetters).isEmpty();
        assertThat(send("GET", "/health", null).status()).as("probes need no key").isEqualTo(200);
    }

    @Test
    void theTenantIsTheKeysNeverTheUserFieldAndAnXTenantHeaderNamingAnotherIsRefused() throws Exception {
        start();
        Answer ok = complete(NORTH, "{\"model\":\"dermatology\",\"prompt\":\"rash\",\"user\":\"wellness-app\"}", "X-Tenant", "clinic-north");
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.body().at("/choices/0/text").asText()).isEqualTo("generated");
        assertThat(gateway.sent).singleElement().satisfies(r -> assertThat(r.getTenant()).isEqualTo("clinic-north"));

        Answer other = complete(NORTH, COMPLETION, "X-Tenant", "wellness-app");
        assertThat(other.status()).isEqualTo(403);
        assertThat(other.error("code")).isEqualTo("tenant_mismatch");
        assertThat(other.error("message")).contains("'wellness-app'").contains("bills tenant 'clinic-north'");
        assertThat(gateway.sent).hasSize(1);
    }

    @Test
    void aKeySeesAndUsesOnlyItsModelsOthersAre404AsOpenAiAnswers() throws Exception {
        start();
        JsonNode models = send("GET", "/v1/models", null, "Authorization", "Bearer " + NORTH).body();
        assertThat(models.get("data")).extracting(m -> m.get("id").asText()).containsExactly("base", "dermatology");
        JsonNode all = send("GET", "/v1/models", null, "Authorization", "Bearer " + OPS).body();
        assertThat(all.get("data")).extracting(m -> m.get("id").asText()).containsExactly("base", "cardiology", "dermatology");

        Answer hidden = complete(NORTH, "{\"model\":\"cardiology\",\"prompt\":\"pulse\"}");
        assertThat(hidden.status()).isEqualTo(404);
        assertThat(hidden.error("code")).isEqualTo("model_not_found");
        assertThat(hidden.error("param")).isEqualTo("model");
        assertThat(hidden.error("message")).isEqualTo("The model 'cardiology' does not exist or this API key may not use it");
        assertThat(complete(NORTH, "{\"model\":\"radiology\",\"prompt\":\"scan\"}").error("message"))
                .as("an unknown model reads the same").isEqualTo("The model 'radiology' does not exist or this API key may not use it");
        assertThat(send("GET", "/v1/models/cardiology", null, "Authorization", "Bearer " + NORTH).status()).isEqualTo(404);
        assertThat(send("GET", "/v1/models/dermatology", null, "Authorization", "Bearer " + NORTH).status()).isEqualTo(200);
        assertThat(gateway.sent).isEmpty();
        assertThat(gateway.deadLetters).hasSize(2).allSatisfy(d -> assertThat(d.getErrorCode()).isEqualTo("UNKNOWN_ADAPTER"));
    }

    @Test
    void onlyAdminKeysMayChangeAdapters() throws Exception {
        start();
        server.adapterAdmin(new dev.lorastream.ingest.AdapterAdmin() {
            @Override public dev.lorastream.schemas.AdapterDescriptor add(String id, Path source, java.util.Map<String, Double> contributors,
                                                                          String description) { throw new IllegalStateException("not here"); }
            @Override public boolean remove(String id) { return true; }
            @Override public java.util.List<dev.lorastream.schemas.AdapterDescriptor> list() { return java.util.List.of(); }
        });
        Answer refused = send("POST", "/v1/unload_lora_adapter", "{\"lora_name\":\"dermatology\"}", "Authorization", "Bearer " + NORTH);
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.error("code")).isEqualTo("insufficient_permissions");
        Answer allowed = send("POST", "/v1/unload_lora_adapter", "{\"lora_name\":\"dermatology\"}", "Authorization", "Bearer " + OPS);
        assertThat(allowed.status()).isEqualTo(200);
        assertThat(allowed.raw().body()).contains("removed successfully");
    }

    @Test
    void requestsPerSecondBeyondTheKeysLimitAre429WithRetryAfter() throws Exception {
        start();
        assertThat(complete(WELLNESS, COMPLETION).status()).isEqualTo(200);
        Answer limited = complete(WELLNESS, COMPLETION);

        assertThat(limited.status()).isEqualTo(429);
        assertThat(limited.raw().headers().firstValue("Retry-After")).hasValue("1");
        assertThat(limited.error("code")).isEqualTo("rate_limit_exceeded");
        assertThat(limited.error("type")).isEqualTo("requests");
        assertThat(limited.error("message")).contains("tenant 'wellness-app' on requests per second: limit 1");
        assertThat(gateway.sent).hasSize(1);
        assertThat(gateway.deadLetters).isEmpty();
        assertThat(complete(NORTH, COMPLETION).status()).as("another tenant's limit is its own").isEqualTo(200);
    }

    @Test
    void tokensPerMinuteReserveTheMostARequestMayUseAndTheAnswersUsageSettlesThem() throws Exception {
        start();
        // 120 tokens a minute (2 a second); each request reserves 3 (prompt "itchy rash", 10 chars / 4) + 47 = 50 tokens and
        // uses 13 (the test worker: 10 prompt + 3 completion). Settled, six fit (120 - 5 x 13 >= 50); unsettled only two would.
        String body = "{\"model\":\"dermatology\",\"prompt\":\"itchy rash\",\"max_tokens\":47}";
        for (int i = 0; i < 6; i++) assertThat(complete(TOKENS, body).status()).as("request %d", i).isEqualTo(200);

        Answer limited = complete(TOKENS, body);
        assertThat(limited.status()).isEqualTo(429);
        assertThat(limited.error("type")).isEqualTo("tokens");
        assertThat(limited.error("code")).isEqualTo("rate_limit_exceeded");
        assertThat(limited.error("message")).contains("tenant 'tokens-app' on tokens per minute: limit 120, requested 50");
        assertThat(Long.parseLong(limited.raw().headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 4L);
        assertThat(gateway.sent).hasSize(6);

        Answer tooLarge = complete(TOKENS, "{\"model\":\"dermatology\",\"prompt\":\"x\",\"max_tokens\":500}");
        assertThat(tooLarge.status()).isEqualTo(429);
        assertThat(tooLarge.raw().headers().firstValue("Retry-After")).as("it can never fit").isEmpty();
        assertThat(tooLarge.error("message")).contains("Request too large for tenant 'tokens-app' on tokens per minute: limit 120, requested 501");
    }

    @Test
    void aFailedAnswerGivesItsTokensBack() throws Exception {
        start();
        gateway.respondWith(r -> TestResponses.error(r, "BAD_PARAMETER", "params.temperature", "no"));
        String body = "{\"model\":\"dermatology\",\"prompt\":\"itchy rash\",\"max_tokens\":47}";
        for (int i = 0; i < 4; i++) assertThat(complete(TOKENS, body).status()).as("request %d", i).isEqualTo(400);
    }

    @Test
    void aNewKeyServesOnceTheFileChangesAndABrokenChangeKeepsTheKeysBefore() throws Exception {
        start();
        String fresh = ApiKeys.newKey();
        assertThat(complete(fresh, COMPLETION).status()).isEqualTo(401);

        KeyFile.append(keys, ApiKeys.hash(fresh) + " new-tenant");
        await().atMost(Duration.ofSeconds(10)).until(() -> complete(fresh, COMPLETION).status() == 200);
        assertThat(gateway.sent.getLast().getTenant()).isEqualTo("new-tenant");

        Files.writeString(keys, "this line is broken\n", java.nio.file.StandardOpenOption.APPEND);
        Thread.sleep(200);
        assertThat(complete(fresh, COMPLETION).status()).isEqualTo(200);
        assertThat(complete(NORTH, COMPLETION).status()).isEqualTo(200);
    }

    @Test
    void aNonLoopbackAddressWithoutKeysIsRefusedAtStartNamingBothSettings() {
        assertThatThrownBy(() -> HttpConfig.builder().host("0.0.0.0").build()).isInstanceOf(ConfigException.class)
                .hasMessageContaining("http.host '0.0.0.0' is not a loopback address and no API keys are configured (http.keys.file)");
        assertThat(HttpConfig.builder().host("0.0.0.0").keysFile(dir.resolve("keys")).build().host()).isEqualTo("0.0.0.0");
        assertThat(HttpConfig.builder().host("localhost").build().keysFile()).isNull();
        assertThat(HttpConfig.builder().host("::1").build().host()).isEqualTo("::1");
    }

    @Test
    void aBrokenKeysFileIsRefusedWhenTheServerIsMade() throws Exception {
        Path broken = dir.resolve("broken");
        Files.writeString(broken, ApiKeys.hash("k") + " tenant rps=-1\n");
        InferenceClient c = new InferenceClient(new InMemoryGateway(), Duration.ofSeconds(5));
        try {
            assertThatThrownBy(() -> new OpenAiServer(HttpConfig.builder().port(0).keysFile(broken).build(), c))
                    .hasMessageContaining(broken + " line 1: rps=-1 is not a number >= 0");
        } finally {
            c.close();
        }
    }
}
