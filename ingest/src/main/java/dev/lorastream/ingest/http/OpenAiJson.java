package dev.lorastream.ingest.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.InferenceResponse;

import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;

/** Response bodies in OpenAI's JSON shapes. */
final class OpenAiJson {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final String OWNER = "lorastream";

    private OpenAiJson() {}

    /** {@code text_completion} or {@code chat.completion} with one choice and the token usage. */
    static ObjectNode completion(CompletionRequest request, InferenceResponse response) {
        CompletionRequest.Endpoint endpoint = request.endpoint();
        Instant created = response.getCompletedAtMs() != null ? response.getCompletedAtMs() : Instant.now();
        ObjectNode body = JSON.createObjectNode()
                .put("id", endpoint.idPrefix + response.getRequestId())
                .put("object", endpoint.object)
                .put("created", created.getEpochSecond())
                .put("model", request.model());
        ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
        String text = response.getText() == null ? "" : response.getText();
        if (endpoint == CompletionRequest.Endpoint.CHAT_COMPLETIONS) {
            choice.putObject("message").put("role", "assistant").put("content", text);
        } else {
            choice.put("text", text);
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(response.getFinishReason()));
        body.putObject("usage")
                .put("prompt_tokens", response.getPromptTokens())
                .put("completion_tokens", response.getCompletionTokens())
                .put("total_tokens", response.getPromptTokens() + response.getCompletionTokens());
        return body;
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
    static ObjectNode models(String backboneName, Collection<AdapterDescriptor> adapters, int maxModelLen) {
        ObjectNode body = JSON.createObjectNode().put("object", "list");
        ArrayNode data = body.putArray("data");
        data.add(backbone(backboneName, maxModelLen));
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
