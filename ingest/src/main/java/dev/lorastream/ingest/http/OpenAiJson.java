package dev.lorastream.ingest.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.TokenLogprob;
import dev.lorastream.schemas.TopLogprob;

import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** Response bodies in OpenAI's JSON shapes. */
final class OpenAiJson {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final String OWNER = "lorastream";

    private OpenAiJson() {}

    /** {@code text_completion} or {@code chat.completion} with one choice and the token usage. */
    static ObjectNode completion(CompletionRequest request, InferenceResponse response) {
        return completion(request, List.of(response));
    }

    /**
     * {@code text_completion} or {@code chat.completion} with one choice per response (the n the
     * request asked for, index by index), named by the first's request id; usage counts the prompt
     * once and every choice's tokens.
     */
    static ObjectNode completion(CompletionRequest request, List<InferenceResponse> responses) {
        CompletionRequest.Endpoint endpoint = request.endpoint();
        InferenceResponse first = responses.getFirst();
        Instant created = first.getCompletedAtMs() != null ? first.getCompletedAtMs() : Instant.now();
        ObjectNode body = JSON.createObjectNode()
                .put("id", endpoint.idPrefix + first.getRequestId())
                .put("object", endpoint.object)
                .put("created", created.getEpochSecond())
                .put("model", request.model());
        ArrayNode choices = body.putArray("choices");
        int completionTokens = 0;
        for (int i = 0; i < responses.size(); i++) {
            InferenceResponse response = responses.get(i);
            completionTokens += response.getCompletionTokens();
            ObjectNode choice = choices.addObject().put("index", i);
            String text = response.getText() == null ? "" : response.getText();
            if (endpoint == CompletionRequest.Endpoint.CHAT_COMPLETIONS) {
                choice.putObject("message").put("role", "assistant").put("content", text);
            } else {
                choice.put("text", text);
            }
            if (request.wantsLogprobs() && response.getLogprobs() != null) {
                choice.set("logprobs", endpoint == CompletionRequest.Endpoint.CHAT_COMPLETIONS ? chatLogprobs(response.getLogprobs()) : completionLogprobs(response.getLogprobs()));
            } else {
                choice.putNull("logprobs");
            }
            choice.put("finish_reason", finishReason(response.getFinishReason()));
        }
        body.putObject("usage")
                .put("prompt_tokens", first.getPromptTokens())
                .put("completion_tokens", completionTokens)
                .put("total_tokens", first.getPromptTokens() + completionTokens);
        return body;
    }

    /** The completions endpoint's (legacy) shape: tokens, token_logprobs, top_logprobs (token to logprob), text_offset within the returned text. */
    static ObjectNode completionLogprobs(List<TokenLogprob> logprobs) {
        ObjectNode lp = JSON.createObjectNode();
        ArrayNode tokens = lp.putArray("tokens"), values = lp.putArray("token_logprobs"), top = lp.putArray("top_logprobs"), offsets = lp.putArray("text_offset");
        int offset = 0;
        for (TokenLogprob t : logprobs) {
            tokens.add(t.getToken());
            values.add(t.getLogprob());
            ObjectNode alternatives = top.addObject();
            for (TopLogprob a : t.getTop()) alternatives.put(a.getToken(), a.getLogprob());
            offsets.add(offset);
            offset += t.getToken().length();
        }
        return lp;
    }

    /** The chat endpoint's shape: content, one entry per token with its UTF-8 bytes and top_logprobs. */
    static ObjectNode chatLogprobs(List<TokenLogprob> logprobs) {
        ObjectNode lp = JSON.createObjectNode();
        ArrayNode content = lp.putArray("content");
        for (TokenLogprob t : logprobs) {
            ObjectNode entry = tokenEntry(content.addObject(), t.getToken(), t.getLogprob());
            ArrayNode top = entry.putArray("top_logprobs");
            for (TopLogprob a : t.getTop()) tokenEntry(top.addObject(), a.getToken(), a.getLogprob());
        }
        lp.putNull("refusal");
        return lp;
    }

    private static ObjectNode tokenEntry(ObjectNode entry, String token, float logprob) {
        entry.put("token", token).put("logprob", logprob);
        ArrayNode bytes = entry.putArray("bytes");
        for (byte b : token.getBytes(java.nio.charset.StandardCharsets.UTF_8)) bytes.add(b & 0xff);
        return entry;
    }

    /**
     * One streamed chunk ({@code text_completion} or {@code chat.completion.chunk}) with one
     * choice: for chat a {@code delta} ({@code role} when {@code role} is given, {@code content}
     * when {@code text} is), for completions its {@code text}; {@code finishReason} null until the last.
     */
    static ObjectNode chunk(CompletionRequest request, String requestId, long created, String role, String text, String finishReason) {
        CompletionRequest.Endpoint endpoint = request.endpoint();
        boolean chat = endpoint == CompletionRequest.Endpoint.CHAT_COMPLETIONS;
        ObjectNode body = JSON.createObjectNode()
                .put("id", endpoint.idPrefix + requestId)
                .put("object", chat ? "chat.completion.chunk" : endpoint.object)
                .put("created", created)
                .put("model", request.model());
        ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
        if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (role != null) delta.put("role", role);
            if (text != null) delta.put("content", text);
        } else {
            choice.put("text", text == null ? "" : text);
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        return body;
    }

    /** The last chunk of a stream with {@code stream_options.include_usage}: no choices, the usage. */
    static ObjectNode usageChunk(CompletionRequest request, String requestId, long created, InferenceResponse response) {
        CompletionRequest.Endpoint endpoint = request.endpoint();
        ObjectNode body = JSON.createObjectNode()
                .put("id", endpoint.idPrefix + requestId)
                .put("object", endpoint == CompletionRequest.Endpoint.CHAT_COMPLETIONS ? "chat.completion.chunk" : endpoint.object)
                .put("created", created)
                .put("model", request.model());
        body.putArray("choices");
        body.putObject("usage")
                .put("prompt_tokens", response.getPromptTokens())
                .put("completion_tokens", response.getCompletionTokens())
                .put("total_tokens", response.getPromptTokens() + response.getCompletionTokens());
        return body;
    }

    /** The worker's finish reason in OpenAI's words: {@code eos} is {@code stop}. */
    static String finishReason(String workerReason) {
        if (workerReason == null) return null;
        return switch (workerReason) {
            case "eos", "stop" -> "stop";
            default -> workerReason;
        };
    }

    /** {@code {"object":"list","data":[...]}}: the backbone first, then the adapters by id. */
    /** @param withBackbone whether the plain backbone is listed (the caller's key may use it) */
    static ObjectNode models(String backboneName, boolean withBackbone, Collection<AdapterDescriptor> adapters, int maxModelLen) {
        ObjectNode body = JSON.createObjectNode().put("object", "list");
        ArrayNode data = body.putArray("data");
        if (withBackbone) data.add(backbone(backboneName, maxModelLen));
        adapters.stream().sorted(Comparator.comparing(AdapterDescriptor::getAdapterId)).forEach(a -> data.add(adapter(backboneName, a, maxModelLen)));
        return body;
    }

    /** The backbone as a model object ({@code GET /v1/models/{id}}). */
    static ObjectNode backbone(String backboneName, int maxModelLen) {
        return JSON.createObjectNode().put("id", backboneName).put("object", "model").put("created", 0).put("owned_by", OWNER)
                .put("root", backboneName).putNull("parent").put("max_model_len", maxModelLen);
    }

    /** An adapter as a model object: vLLM's shape (root, parent) plus its version, rank and base model. */
    static ObjectNode adapter(String backboneName, AdapterDescriptor a, int maxModelLen) {
        ObjectNode model = JSON.createObjectNode()
                .put("id", a.getAdapterId())
                .put("object", "model")
                .put("created", a.getUpdatedAtMs() == null ? 0 : a.getUpdatedAtMs().getEpochSecond())
                .put("owned_by", OWNER)
                .put("root", a.getBaseModel())
                .put("parent", backboneName)
                .put("version", a.getVersion())
                .put("rank", a.getRank())
                .put("base_model", a.getBaseModel())
                .put("max_model_len", maxModelLen);
        if (a.getDescription() != null) model.put("description", a.getDescription());
        return model;
    }

    /** OpenAI's error object: {@code {"error":{"message","type","param","code"}}}. */
    static ObjectNode error(ApiError e) {
        ObjectNode body = JSON.createObjectNode();
        body.putObject("error")
                .put("message", e.getMessage())
                .put("type", e.type())
                .put("param", e.param())
                .put("code", e.code());
        return body;
    }
}
