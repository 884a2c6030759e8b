package dev.lorastream.ingest.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lorastream.ingest.http.CompletionRequest.Endpoint;
import dev.lorastream.schemas.StopSequences;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Reads and checks the JSON body of {@code /v1/completions} and {@code /v1/chat/completions}.
 * Every refusal is an {@link ApiError} naming the parameter and the reason. Unrecognised
 * parameters are refused (as OpenAI does); recognised ones this pipeline cannot honour
 * ({@code n}, penalties, ...) are accepted only with their no-op values. {@code stream},
 * {@code stream_options.include_usage} and {@code stop} are honoured.
 * An explicit {@code null} means "not given". Tenant: the caller's API key's when the endpoint has keys
 * ({@code user} is then OpenAI's end-user id and bills no one; {@link Access} refuses an X-Tenant header naming another);
 * without keys the {@code X-Tenant} header, else {@code user}, else the configured default.
 */
public final class CompletionParser {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final Set<String> COMMON = Set.of("model", "max_tokens", "temperature", "top_p", "top_k", "seed", "user",
            "n", "stream", "stream_options", "stop", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs");
    private static final Set<String> COMPLETION_ONLY = Set.of("prompt", "echo", "suffix", "best_of");
    private static final Set<String> CHAT_ONLY = Set.of("messages", "max_completion_tokens", "top_logprobs");
    /** The most alternatives per token (OpenAI's completions limit; chat's top_logprobs allows 20, this engine 5). */
    static final int MAX_LOGPROBS = 5;
    private static final Set<String> MESSAGE_FIELDS = Set.of("role", "content", "name");
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant");

    private final HttpConfig config;
    private final ChatTemplate template;

    public CompletionParser(HttpConfig config, ChatTemplate template) {
        this.config = config;
        this.template = template;
    }

    /**
     * @param tenantHeader the X-Tenant header, or null
     * @param knownAdapters adapter ids of the catalog; when non-empty, a model outside it (and not the backbone) is refused
     */
    public CompletionRequest completion(byte[] body, String tenantHeader, Set<String> knownAdapters) {
        return completion(body, tenantHeader, null, knownAdapters);
    }

    /** @param keyTenant the tenant of the caller's API key, or null on an endpoint without keys */
    public CompletionRequest completion(byte[] body, String tenantHeader, String keyTenant, Set<String> knownAdapters) {
        ObjectNode o = object(body);
        rejectUnknown(o, COMPLETION_ONLY);
        requireNoOp(o, "echo", n -> n.isBoolean() && !n.booleanValue(), "is not supported; leave it out or set it to false");
        requireNoOp(o, "suffix", n -> false, "is not supported");
        requireNoOp(o, "best_of", n -> n.isIntegralNumber() && n.intValue() == 1, "is not supported with a value other than 1");
        Prompt prompt = prompt(o.get("prompt"));
        Integer logprobs = null;
        JsonNode lp = o.get("logprobs");
        if (lp != null && !lp.isNull()) {
            if (!lp.isIntegralNumber()) throw ApiError.invalidType("logprobs", "an integer from 0 to " + MAX_LOGPROBS);
            logprobs = lp.intValue();
            if (logprobs < 0 || logprobs > MAX_LOGPROBS) throw ApiError.outOfRange("logprobs", "must be between 0 and " + MAX_LOGPROBS + ", got " + logprobs);
        }
        return build(Endpoint.COMPLETIONS, o, prompt.text, prompt.tokenIds, integer(o, "max_tokens"), tenantHeader, keyTenant, knownAdapters,
                logprobs == null ? -1 : logprobs);
    }

    /** As {@link #completion}, for chat: {@code messages} rendered with the chat template into one prompt. */
    public CompletionRequest chat(byte[] body, String tenantHeader, Set<String> knownAdapters) {
        return chat(body, tenantHeader, null, knownAdapters);
    }

    /** @param keyTenant the tenant of the caller's API key, or null on an endpoint without keys */
    public CompletionRequest chat(byte[] body, String tenantHeader, String keyTenant, Set<String> knownAdapters) {
        ObjectNode o = object(body);
        rejectUnknown(o, CHAT_ONLY);
        boolean logprobs = bool(o, "logprobs");
        Integer top = integer(o, "top_logprobs");
        if (top != null && (top < 0 || top > MAX_LOGPROBS)) throw ApiError.outOfRange("top_logprobs", "must be between 0 and " + MAX_LOGPROBS + ", got " + top);
        if (top != null && !logprobs) throw ApiError.unsupported("top_logprobs", "needs logprobs: true");
        String prompt = template.render(messages(o.get("messages")));
        Integer maxTokens = integer(o, "max_completion_tokens");
        if (maxTokens == null) maxTokens = integer(o, "max_tokens");
        else if (integer(o, "max_tokens") != null && !maxTokens.equals(integer(o, "max_tokens"))) {
            throw ApiError.outOfRange("max_tokens", "contradicts max_completion_tokens; give one of them");
        }
        return build(Endpoint.CHAT_COMPLETIONS, o, prompt, null, maxTokens, tenantHeader, keyTenant, knownAdapters,
                logprobs ? (top == null ? 0 : top) : -1);
    }

    private CompletionRequest build(Endpoint endpoint, ObjectNode o, String prompt, List<Integer> tokenIds, Integer maxTokens,
                                    String tenantHeader, String keyTenant, Set<String> knownAdapters, int logprobs) {
        String maxParam = o.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        int max = maxTokens == null ? config.defaultMaxTokens() : maxTokens;
        if (max < 1) throw ApiError.outOfRange(maxParam, "must be at least 1, got " + max);
        Double temperature = number(o, "temperature");
        if (temperature != null && !(temperature >= 0 && temperature <= 2)) {
            throw ApiError.outOfRange("temperature", "must be between 0 and 2, got " + o.get("temperature"));
        }
        Double topP = number(o, "top_p");
        if (topP != null && !(topP > 0 && topP <= 1)) {
            throw ApiError.outOfRange("top_p", "must be more than 0 and at most 1, got " + o.get("top_p"));
        }
        Integer topK = integer(o, "top_k");
        if (topK != null && topK < 0) throw ApiError.outOfRange("top_k", "must be 0 (no cut) or more, got " + topK);
        Long seed = longInteger(o, "seed");
        String tenant = tenant(o, tenantHeader, keyTenant);
        Integer n = integer(o, "n");
        if (n != null && (n < 1 || n > config.maxN())) throw ApiError.outOfRange("n", "must be between 1 and " + config.maxN() + " (http.max.n), got " + n);
        boolean stream = bool(o, "stream");
        if (stream && n != null && n > 1) throw ApiError.unsupported("n", "above 1 is not supported with stream: true");
        if (stream && logprobs >= 0) throw ApiError.unsupported("logprobs", "is not supported with stream: true");
        boolean includeUsage = streamOptions(o.get("stream_options"), stream);
        List<String> stop = stop(o.get("stop"));
        float presence = penalty(o, "presence_penalty"), frequency = penalty(o, "frequency_penalty");
        requireNoOp(o, "logit_bias", bias -> bias.isObject() && bias.isEmpty(), "is not supported");
        String model = config.backboneModelName();
        String adapterId = null;
        JsonNode m = o.get("model");
        if (m != null && !m.isNull()) {
            if (!m.isTextual()) throw ApiError.invalidType("model", "a string (an adapter id, or '" + config.backboneModelName() + "')");
            String name = m.textValue().trim();
            if (name.isEmpty()) throw ApiError.empty("model");
            if (!name.equals(config.backboneModelName())) {
                if (!knownAdapters.isEmpty() && !knownAdapters.contains(name)) {
                    // with keys, an adapter the key may not use is not told apart from one that does not exist
                    throw keyTenant == null ? ApiError.unknownModel(name) : ApiError.modelNotAllowed(name);
                }
                model = name;
                adapterId = name;
            }
        }
        return new CompletionRequest(endpoint, model, adapterId, prompt, tokenIds, max,
                temperature == null ? 0f : temperature.floatValue(), topP == null ? 1f : topP.floatValue(),
                topK == null ? 0 : topK, seed, tenant, stream, includeUsage, stop, n == null ? 1 : n, logprobs, presence, frequency);
    }

    /** {@code presence_penalty}, {@code frequency_penalty}: a number from -2 to 2 (0 when left out). */
    private static float penalty(ObjectNode o, String field) {
        Double v = number(o, field);
        if (v == null) return 0f;
        if (!(v >= -2 && v <= 2)) throw ApiError.outOfRange(field, "must be between -2 and 2, got " + o.get(field));
        return v.floatValue();
    }

    /** {@code stop}: a string or an array of strings, up to {@link StopSequences#MAX_COUNT}, none empty. */
    private static List<String> stop(JsonNode n) {
        if (n == null || n.isNull()) return List.of();
        List<String> stop = new java.util.ArrayList<>();
        if (n.isTextual()) {
            stop.add(n.textValue());
        } else if (n.isArray()) {
            for (JsonNode s : n) {
                if (!s.isTextual()) throw ApiError.invalidType("stop", "a string or an array of strings");
                stop.add(s.textValue());
            }
        } else {
            throw ApiError.invalidType("stop", "a string or an array of strings");
        }
        StopSequences.problem(stop).ifPresent(why -> { throw ApiError.outOfRange("stop", why); });
        return stop;
    }

    private static boolean bool(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return false;
        if (!n.isBoolean()) throw ApiError.invalidType(field, "a boolean");
        return n.booleanValue();
    }

    /** {@code stream_options}: only with {@code stream: true}; {@code include_usage} (boolean) is its one field. */
    private static boolean streamOptions(JsonNode n, boolean stream) {
        if (n == null || n.isNull()) return false;
        if (!stream) throw ApiError.unsupported("stream_options", "is only valid with stream: true");
        if (!n.isObject()) throw ApiError.invalidType("stream_options", "an object");
        for (Iterator<String> names = n.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals("include_usage")) throw ApiError.unknownParameter("stream_options." + name);
        }
        JsonNode usage = n.get("include_usage");
        if (usage == null || usage.isNull()) return false;
        if (!usage.isBoolean()) throw ApiError.invalidType("stream_options.include_usage", "a boolean");
        return usage.booleanValue();
    }

    private String tenant(ObjectNode o, String tenantHeader, String keyTenant) {
        JsonNode user = o.get("user");
        boolean hasUser = user != null && !user.isNull();
        if (hasUser && !user.isTextual()) throw ApiError.invalidType("user", "a string");
        if (hasUser && user.textValue().isBlank()) throw ApiError.empty("user");
        if (keyTenant != null) return keyTenant;
        if (tenantHeader != null && !tenantHeader.isBlank()) return tenantHeader.trim();
        return hasUser ? user.textValue().trim() : config.defaultTenant();
    }

    /** The body as a JSON object, or the 400 naming what is wrong with it. */
    static ObjectNode object(byte[] body) {
        if (body.length == 0) throw ApiError.invalidJson("the body is empty; expected a JSON object");
        JsonNode node;
        try {
            node = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
            String detail = e.getOriginalMessage().replaceAll("\\[Source: [^;\\]]*(\\([^)]*\\))?; ", "[");
            throw ApiError.invalidJson(detail + where);
        } catch (IOException e) {
            throw ApiError.invalidJson(e.getMessage());
        }
        if (node == null || node.isMissingNode()) throw ApiError.invalidJson("the body is empty; expected a JSON object");
        if (!node.isObject()) throw ApiError.notAnObject(node.getNodeType().name().toLowerCase());
        return (ObjectNode) node;
    }

    private static void rejectUnknown(ObjectNode o, Set<String> endpointFields) {
        for (Iterator<String> names = o.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!COMMON.contains(name) && !endpointFields.contains(name)) throw ApiError.unknownParameter(name);
        }
    }

    private static void requireNoOp(ObjectNode o, String field, Predicate<JsonNode> isNoOp, String reason) {
        JsonNode n = o.get(field);
        if (n != null && !n.isNull() && !isNoOp.test(n)) throw ApiError.unsupported(field, reason);
    }

    private record Prompt(String text, List<Integer> tokenIds) {}

    private static Prompt prompt(JsonNode p) {
        if (p == null || p.isNull()) throw ApiError.missing("prompt");
        if (p.isTextual()) {
            if (p.textValue().isEmpty()) throw ApiError.empty("prompt");
            return new Prompt(p.textValue(), null);
        }
        if (!p.isArray()) throw ApiError.invalidType("prompt", "a string (or an array of token ids)");
        if (p.isEmpty()) throw ApiError.empty("prompt");
        if (p.size() == 1 && p.get(0).isTextual()) return prompt(p.get(0));
        List<Integer> ids = new ArrayList<>(p.size());
        for (JsonNode id : p) {
            if (id.isTextual()) throw ApiError.unsupported("prompt", "holds several prompts; send one prompt per request");
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.intValue() < 0) {
                throw ApiError.invalidType("prompt", "a string (or an array of non-negative token ids)");
            }
            ids.add(id.intValue());
        }
        return new Prompt(null, List.copyOf(ids));
    }

    private static List<ChatMessage> messages(JsonNode ms) {
        if (ms == null || ms.isNull()) throw ApiError.missing("messages");
        if (!ms.isArray()) throw ApiError.invalidType("messages", "an array of {role, content} objects");
        if (ms.isEmpty()) throw ApiError.empty("messages");
        List<ChatMessage> messages = new ArrayList<>(ms.size());
        for (int i = 0; i < ms.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode m = ms.get(i);
            if (!m.isObject()) throw ApiError.invalidType(at, "an object with role and content");
            for (Iterator<String> names = m.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!MESSAGE_FIELDS.contains(name)) throw ApiError.unknownParameter(at + "." + name);
            }
            JsonNode role = m.get("role");
            if (role == null || role.isNull()) throw ApiError.missing(at + ".role");
            if (!role.isTextual()) throw ApiError.invalidType(at + ".role", "a string");
            if (!ROLES.contains(role.textValue())) {
                throw ApiError.unsupported(at + ".role", "must be one of system, developer, user, assistant; got '" + role.textValue() + "'");
            }
            String r = role.textValue().equals("developer") ? "system" : role.textValue();
            messages.add(new ChatMessage(r, content(m.get("content"), at + ".content")));
        }
        return messages;
    }

    private static String content(JsonNode c, String at) {
        if (c == null || c.isNull()) throw ApiError.missing(at);
        String text;
        if (c.isTextual()) {
            text = c.textValue();
        } else if (c.isArray()) {
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < c.size(); i++) {
                JsonNode part = c.get(i);
                String partAt = at + "[" + i + "]";
                if (!part.isObject() || !part.path("type").isTextual()) throw ApiError.invalidType(partAt, "an object {type: \"text\", text}");
                if (!part.get("type").textValue().equals("text")) {
                    throw ApiError.unsupported(partAt + ".type", "must be 'text'; got '" + part.get("type").textValue() + "'");
                }
                if (!part.path("text").isTextual()) throw ApiError.invalidType(partAt + ".text", "a string");
                parts.add(part.get("text").textValue());
            }
            text = String.join("\n", parts);
        } else {
            throw ApiError.invalidType(at, "a string (or an array of text parts)");
        }
        if (text.isEmpty()) throw ApiError.empty(at);
        return text;
    }

    private static Integer integer(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isIntegralNumber()) throw ApiError.invalidType(field, "an integer, got " + n);
        if (!n.canConvertToInt()) throw ApiError.outOfRange(field, "must fit in 32 bits, got " + n);
        return n.intValue();
    }

    private static Long longInteger(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isIntegralNumber()) throw ApiError.invalidType(field, "an integer, got " + n);
        if (!n.canConvertToLong()) throw ApiError.outOfRange(field, "must fit in 64 bits, got " + n);
        return n.longValue();
    }

    private static Double number(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isNumber()) throw ApiError.invalidType(field, "a number, got " + n);
        return n.doubleValue();
    }
}
