package dev.lorastream.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.avro.Schema;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Confluent Schema Registry REST client over {@code java.net.http}. The base URL is the registry
 * root for Confluent ({@code http://host:8081}) or Apicurio's compatibility API
 * ({@code http://host:8080/apis/ccompat/v7}). Ids and registrations are cached; retriable
 * failures (unreachable, 5xx) are retried a bounded number of times.
 */
public final class HttpSchemaRegistryClient implements SchemaRegistryClient {
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ATTEMPTS = 5;

    private final String baseUrl;
    private final HttpClient http;
    private final Map<Integer, Schema> byId = new ConcurrentHashMap<>();
    private final Map<String, Integer> registered = new ConcurrentHashMap<>();

    public HttpSchemaRegistryClient(String baseUrl) {
        if (baseUrl == null || baseUrl.isBlank()) {
            throw new IllegalArgumentException("schema registry url is empty");
        }
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Override
    public int register(String subject, Schema schema) {
        String cacheKey = subject + '\n' + schema.toString();
        Integer cached = registered.get(cacheKey);
        if (cached != null) return cached;
        ObjectNode body = JSON.createObjectNode().put("schema", schema.toString()).put("schemaType", "AVRO");
        JsonNode answer = call("POST", "/subjects/" + enc(subject) + "/versions", body.toString());
        int id = answer.path("id").asInt(-1);
        if (id < 0) throw new SchemaRegistryException("registry " + baseUrl + " answered without an id: " + answer, 200, 0, null);
        registered.put(cacheKey, id);
        byId.putIfAbsent(id, schema);
        return id;
    }

    @Override
    public Schema schemaById(int id) {
        return byId.computeIfAbsent(id, k -> {
            JsonNode answer = call("GET", "/schemas/ids/" + k, null);
            return new Schema.Parser().parse(answer.path("schema").asText());
        });
    }

    @Override
    public void setCompatibility(String subject, Compatibility level) {
        call("PUT", "/config/" + enc(subject), JSON.createObjectNode().put("compatibility", level.name()).toString());
    }

    @Override
    public Compatibility compatibility(String subject) {
        JsonNode answer;
        try {
            answer = call("GET", "/config/" + enc(subject) + "?defaultToGlobal=true", null);
        } catch (SchemaRegistryException e) {
            if (e.status() != 404) throw e;
            answer = call("GET", "/config", null);
        }
        String level = answer.has("compatibilityLevel") ? answer.get("compatibilityLevel").asText()
                : answer.path("compatibility").asText("NONE");
        return Compatibility.valueOf(level);
    }

    @Override
    public boolean isCompatible(String subject, Schema schema) {
        ObjectNode body = JSON.createObjectNode().put("schema", schema.toString()).put("schemaType", "AVRO");
        try {
            JsonNode answer = call("POST", "/compatibility/subjects/" + enc(subject) + "/versions/latest", body.toString());
            return answer.path("is_compatible").asBoolean(false);
        } catch (SchemaRegistryException e) {
            if (e.status() == 404) return true; // no version yet: anything goes
            throw e;
        }
    }

    @Override
    public String describe() { return baseUrl; }

    private JsonNode call(String method, String path, String body) {
        SchemaRegistryException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                return once(method, path, body);
            } catch (SchemaRegistryException e) {
                if (!e.isRetriable()) throw e;
                last = e;
                sleep(200L * attempt);
            }
        }
        throw last;
    }

    private JsonNode once(String method, String path, String body) {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .timeout(Duration.ofSeconds(10))
                .header("Accept", CONTENT_TYPE + ", application/json");
        if (body == null) req.method(method, HttpRequest.BodyPublishers.noBody());
        else req.header("Content-Type", CONTENT_TYPE).method(method, HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> resp;
        try {
            resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new SchemaRegistryException("schema registry " + baseUrl + " unreachable (" + method + " " + path + "): " + e, 0, 0, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException("interrupted calling schema registry " + baseUrl, 0, 0, e);
        }
        JsonNode json = parse(resp.body());
        if (resp.statusCode() / 100 != 2) {
            String message = json.path("message").asText(resp.body());
            throw new SchemaRegistryException("schema registry " + baseUrl + " refused " + method + " " + path
                    + ": HTTP " + resp.statusCode() + " " + message, resp.statusCode(), json.path("error_code").asInt(0), null);
        }
        return json;
    }

    private static JsonNode parse(String body) {
        try {
            return body == null || body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (IOException e) {
            return JSON.createObjectNode().put("message", body);
        }
    }

    private static String enc(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8); }

    private static void sleep(long ms) {
        try { Thread.sleep(ms); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
    }
}
