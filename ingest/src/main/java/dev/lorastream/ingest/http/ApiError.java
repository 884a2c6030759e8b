package dev.lorastream.ingest.http;

import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.ErrorInfo;

import java.util.Locale;
import java.util.Map;

/**
 * A request the endpoint answers with an error: the HTTP status, OpenAI's error object
 * ({@code message}, {@code type}, {@code param}, {@code code}) and the pipeline error code used
 * for the dead letter. {@link #refusedInput()} is true for input this endpoint itself refused
 * (those are dead-lettered); errors that came back from the pipeline were dead-lettered there.
 */
public final class ApiError extends RuntimeException {
    public static final String INVALID_REQUEST_ERROR = "invalid_request_error";
    public static final String SERVER_ERROR = "server_error";

    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final String pipelineCode;
    private final boolean refusedInput;
    /** Headers the answer carries beside the body (WWW-Authenticate, Retry-After). */
    private final Map<String, String> headers;

    private ApiError(int status, String message, String type, String param, String code, String pipelineCode, boolean refusedInput) {
        this(status, message, type, param, code, pipelineCode, refusedInput, Map.of());
    }

    private ApiError(int status, String message, String type, String param, String code, String pipelineCode, boolean refusedInput,
                     Map<String, String> headers) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.pipelineCode = pipelineCode;
        this.refusedInput = refusedInput;
        this.headers = Map.copyOf(headers);
    }

    /** 401, as OpenAI answers a missing or unknown key; not dead-lettered (a flood of them must not fill Kafka). */
    static ApiError unauthorized(String message) {
        return new ApiError(401, message, INVALID_REQUEST_ERROR, null, "invalid_api_key", null, false, Map.of("WWW-Authenticate", "Bearer"));
    }

    /** 403: the key is known but may not do this. Not dead-lettered. */
    static ApiError forbidden(String message, String code) {
        return new ApiError(403, message, INVALID_REQUEST_ERROR, null, code, null, false);
    }

    /** A model the caller's key may not use answers as one that does not exist, as OpenAI does. Dead-lettered like that. */
    static ApiError modelNotAllowed(String model) {
        return refused(404, "The model '" + model + "' does not exist or this API key may not use it", "model", "model_not_found", ErrorCode.UNKNOWN_ADAPTER);
    }

    /**
     * 429 in OpenAI's shape (type {@code requests} or {@code tokens}, code {@code rate_limit_exceeded}) with
     * {@code Retry-After} in seconds; none when the request can never fit (it needs more than a minute's tokens).
     * Not dead-lettered.
     */
    static ApiError rateLimited(String message, String type, long retryAfterSeconds) {
        return new ApiError(429, message, type, null, "rate_limit_exceeded", ErrorCode.RATE_LIMITED.name(), false,
                retryAfterSeconds < 0 ? Map.of() : Map.of("Retry-After", Long.toString(retryAfterSeconds)));
    }

    static ApiError invalidJson(String detail) {
        return refused(400, "request body is not valid JSON: " + detail, null, "invalid_json", ErrorCode.MALFORMED_RECORD);
    }

    static ApiError notAnObject(String got) {
        return refused(400, "request body must be a JSON object, got " + got, null, "invalid_type", ErrorCode.INVALID_REQUEST);
    }

    static ApiError invalidType(String param, String expected) {
        return refused(400, "'" + param + "' must be " + expected, param, "invalid_type", ErrorCode.INVALID_REQUEST);
    }

    static ApiError missing(String param) {
        return refused(400, "'" + param + "' is required", param, "missing_required_parameter", ErrorCode.INVALID_REQUEST);
    }

    static ApiError empty(String param) {
        return refused(400, "'" + param + "' must not be empty", param, "empty_value", ErrorCode.INVALID_REQUEST);
    }

    static ApiError outOfRange(String param, String reason) {
        return refused(400, "'" + param + "' " + reason, param, "invalid_value", ErrorCode.BAD_PARAMETER);
    }

    static ApiError unsupported(String param, String reason) {
        return refused(400, "'" + param + "' " + reason, param, "unsupported_value", ErrorCode.BAD_PARAMETER);
    }

    static ApiError unknownParameter(String param) {
        return refused(400, "Unrecognized request argument supplied: " + param, param, "unknown_parameter", ErrorCode.INVALID_REQUEST);
    }

    static ApiError unknownModel(String model) {
        return refused(404, "The model '" + model + "' does not exist: it is neither the backbone nor an adapter in the catalog",
                "model", "model_not_found", ErrorCode.UNKNOWN_ADAPTER);
    }

    /** An adapter the runtime adapter endpoints refused (the reason names what the backbone or the store objected to). */
    static ApiError adapterRefused(String param, String reason) {
        return refused(400, "'" + param + "' " + reason, param, "invalid_value", ErrorCode.INVALID_REQUEST);
    }

    /** vLLM's answer for unloading an adapter it does not have. */
    static ApiError unknownAdapter(String name) {
        return refused(404, "The lora adapter '" + name + "' cannot be found.", "lora_name", "model_not_found", ErrorCode.UNKNOWN_ADAPTER);
    }

    static ApiError tooLarge(long size, int limit) {
        String got = size >= 0 ? size + " bytes" : "more than " + limit + " bytes";
        return refused(413, "request body is " + got + "; the limit is " + limit + " bytes", null, "request_too_large", ErrorCode.INVALID_REQUEST);
    }

    static ApiError notFound(String method, String path) {
        return new ApiError(404, "Unknown request URL: " + method + " " + path, INVALID_REQUEST_ERROR, null, "unknown_url", null, false);
    }

    static ApiError methodNotAllowed(String method, String path, String allowed) {
        return new ApiError(405, "Method " + method + " is not allowed on " + path + "; use " + allowed,
                INVALID_REQUEST_ERROR, null, "method_not_allowed", null, false);
    }

    static ApiError timeout(String requestId, long millis) {
        return new ApiError(504, "no response for request " + requestId + " within " + millis + " ms",
                SERVER_ERROR, null, "timeout", ErrorCode.DEADLINE_EXCEEDED.name(), false);
    }

    /**
     * 503 with {@code Retry-After: 1}: Kafka did not take the request (the broker is down or unreachable). The caller may
     * try again; a send that timed out may still have been written, and is then served once under its request id.
     */
    static ApiError unavailable(String message) {
        return new ApiError(503, message, SERVER_ERROR, null, "service_unavailable", ErrorCode.INTERNAL.name(), false, Map.of("Retry-After", "1"));
    }

    static ApiError internal(String message) {
        return new ApiError(500, message, SERVER_ERROR, null, "internal_error", ErrorCode.INTERNAL.name(), false);
    }

    /**
     * The HTTP face of an ERROR response from the pipeline: 400 for BAD_PARAMETER, PROMPT_TOO_LONG
     * and INVALID_REQUEST, 404 for UNKNOWN_ADAPTER, 409 for DUPLICATE_REQUEST_ID, 413 for TOO_LARGE, 429 for RATE_LIMITED,
     * 504 for DEADLINE_EXCEEDED, 500 otherwise (also for a code
     * this build does not know; it is passed on as it came).
     *
     * @param promptParam the request field that carried the prompt ({@code prompt} or {@code messages})
     */
    static ApiError fromPipeline(ErrorInfo error, String promptParam) {
        String pipelineCode = error == null ? ErrorCode.INTERNAL.name() : error.getCode();
        String message = error == null ? "the pipeline answered with an error and no details" : error.getMessage();
        ErrorCode known = ErrorCode.parse(pipelineCode).orElse(null);
        int status = switch (known) {
            case BAD_PARAMETER, PROMPT_TOO_LONG, INVALID_REQUEST -> 400;
            case UNKNOWN_ADAPTER -> 404;
            case DUPLICATE_REQUEST_ID -> 409;
            case RATE_LIMITED -> 429;
            case TOO_LARGE -> 413;
            case DEADLINE_EXCEEDED -> 504;
            case null, default -> 500;
        };
        String param = error == null ? null : openAiParam(error.getField(), promptParam);
        if (param == null && known == ErrorCode.UNKNOWN_ADAPTER) param = "model";
        String type = status < 500 ? INVALID_REQUEST_ERROR : SERVER_ERROR;
        return new ApiError(status, message, type, param, pipelineCode.toLowerCase(Locale.ROOT), pipelineCode, false);
    }

    /** The request field named by the pipeline (an InferenceRequest field) as the OpenAI parameter it came from. */
    static String openAiParam(String field, String promptParam) {
        if (field == null || field.isBlank()) return null;
        String f = field.startsWith("params.") ? field.substring("params.".length()) : field;
        return switch (f) {
            case "adapter_id" -> "model";
            case "prompt", "prompt_token_ids" -> promptParam;
            case "max_new_tokens" -> "max_tokens";
            case "tenant" -> "user";
            default -> f;
        };
    }

    private static ApiError refused(int status, String message, String param, String code, ErrorCode pipelineCode) {
        return new ApiError(status, message, INVALID_REQUEST_ERROR, param, code, pipelineCode.name(), true);
    }

    public int status() { return status; }
    public String type() { return type; }
    public String param() { return param; }
    public String code() { return code; }
    /** Pipeline error code (ErrorInfo / DeadLetter vocabulary), or null for routing errors (404 URL, 405). */
    public String pipelineCode() { return pipelineCode; }
    public boolean refusedInput() { return refusedInput; }
    public Map<String, String> headers() { return headers; }
}
