package dev.lorastream.ingest.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.lorastream.ingest.AdapterAdmin;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.IngestException;
import dev.lorastream.ingest.RequestTimeoutException;
import dev.lorastream.ingest.http.CompletionRequest.Endpoint;
import dev.lorastream.ingest.http.auth.RateLimiter;
import dev.lorastream.schemas.SchemaTrust;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.DeadLetters;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * OpenAI-compatible HTTP endpoint over an {@link InferenceClient}: {@code POST /v1/completions},
 * {@code POST /v1/chat/completions} (messages rendered by a {@link ChatTemplate}) and
 * {@code GET /v1/models} (the backbone plus the adapters of the catalog), {@code GET /v1/models/{id}},
 * {@code GET /health} (200 while it serves) and {@code GET /ready} (200 once started: the client
 * reached Kafka and the registry at start-up). {@code model} names the
 * adapter; absent or the backbone's name serves the plain backbone. Input refused here gets an
 * OpenAI error body and a {@link DeadLetter} (component {@code ingest}, source
 * {@code http:POST <path>}, partition and offset -1, the original body). Each request is handled
 * on its own virtual thread; every answer carries the request id in {@code X-Request-Id}.
 * <p>
 * Who may call it is {@link Access}'s business: with a keys file every {@code /v1} request needs a key, which names the
 * tenant, the models it may use and see (others answer 404, as OpenAI does, and are not listed) and its rate limits;
 * {@code /health} and {@code /ready} need none. Each generating request is admitted by the {@link RateLimiter} (one
 * request, and its prompt estimate plus max_tokens per choice; the answers' usage settles the tokens) or answered 429
 * with {@code Retry-After}. Refused keys and rate limits are not dead-lettered.
 */
public final class OpenAiServer implements AutoCloseable {
    static {
        SchemaTrust.ensure();
    }

    private static final Logger log = LoggerFactory.getLogger(OpenAiServer.class);
    public static final String TENANT_HEADER = "X-Tenant";
    public static final String REQUEST_ID_HEADER = "X-Request-Id";
    private static final String MODELS_PATH = "/v1/models";

    private final HttpConfig config;
    private final InferenceClient client;
    private final CompletionParser parser;
    private final Access access;
    private final RateLimiter limiter = new RateLimiter();
    private ConnectionWatch connections;
    /** Runtime adapter updates ({@code /v1/load_lora_adapter}, {@code /v1/unload_lora_adapter}); null: off. */
    private volatile AdapterAdmin admin;
    private HttpServer server;
    private ExecutorService executor;

    public OpenAiServer(HttpConfig config, InferenceClient client) {
        this(config, client, ChatTemplate.roleTags());
    }

    public OpenAiServer(HttpConfig config, InferenceClient client, ChatTemplate template) {
        this.config = Objects.requireNonNull(config, "config");
        this.client = Objects.requireNonNull(client, "client");
        this.parser = new CompletionParser(config, Objects.requireNonNull(template, "template"));
        this.access = new Access(config);
    }

    /**
     * Turns on vLLM's runtime adapter endpoints, {@code POST /v1/load_lora_adapter} ({@code lora_name},
     * {@code lora_path}) and {@code POST /v1/unload_lora_adapter} ({@code lora_name}), served by this admin.
     * Off by default: the endpoint then answers them 404, as vLLM does without
     * {@code VLLM_ALLOW_RUNTIME_LORA_UPDATING}. Anyone who can reach the endpoint can then add adapters
     * from paths on this machine: keep it on loopback.
     */
    public OpenAiServer adapterAdmin(AdapterAdmin admin) {
        this.admin = admin;
        return this;
    }

    /** Binds and starts serving. @throws UncheckedIOException when the address cannot be bound */
    public synchronized void start() {
        if (server != null) throw new IllegalStateException("server already started");
        try {
            server = HttpServer.create(new InetSocketAddress(config.host(), config.port()), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
        }
        executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        connections = ConnectionWatch.system();
        if (!connections.supported()) log.info("the kernel's socket tables are not readable here: a non-streaming client that goes away is not noticed");
        server.start();
        access.start();
        log.info("OpenAI-compatible endpoint listening on http://{}:{}/v1 ({})", config.host(), port(), access.keysRequired()
                ? "API keys from " + config.keysFile() + ": " + access.keyFile().keys().size() + " key(s)" : "no API keys: the tenant is the request's");
    }

    /** The port listened on (the chosen one when the configured port is 0). */
    public synchronized int port() {
        if (server == null) throw new IllegalStateException("server not started");
        return server.getAddress().getPort();
    }

    @Override
    public synchronized void close() {
        if (server == null) return;
        server.stop(0);
        executor.shutdownNow();
        connections.close();
        access.close();
        server = null;
    }

    private void handle(HttpExchange exchange) {
        String requestId = InferenceClient.newRequestId();
        MDC.put("request_id", requestId);
        try {
            exchange.getResponseHeaders().set(REQUEST_ID_HEADER, requestId);
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            Caller caller = path.startsWith("/v1/")
                    ? access.authenticate(exchange.getRequestHeaders().getFirst("Authorization"), exchange.getRequestHeaders().getFirst(TENANT_HEADER))
                    : null;
            if (path.startsWith(MODELS_PATH + "/")) {
                requireMethod(method, path, "GET");
                respond(exchange, 200, model(caller, URLDecoder.decode(path.substring(MODELS_PATH.length() + 1), StandardCharsets.UTF_8)));
                return;
            }
            switch (path) {
                case MODELS_PATH -> {
                    requireMethod(method, path, "GET");
                    respond(exchange, 200, OpenAiJson.models(config.backboneModelName(), caller.mayUse(config.backboneModelName()),
                            client.adapters().values().stream().filter(a -> caller.mayUse(a.getAdapterId())).toList(), config.maxModelLen()));
                }
                case "/health" -> {
                    requireMethod(method, path, "GET");
                    respond(exchange, 200, OpenAiJson.JSON.createObjectNode().put("status", "ok"));
                }
                case "/ready" -> {
                    requireMethod(method, path, "GET");
                    respond(exchange, 200, OpenAiJson.JSON.createObjectNode().put("status", "ready").put("adapters", client.adapters().size()));
                }
                case "/v1/load_lora_adapter", "/v1/unload_lora_adapter" -> {
                    requireMethod(method, path, "POST");
                    if (admin == null) throw ApiError.notFound(method, path + " (runtime adapter updates are off on this endpoint)");
                    if (!caller.admin()) {
                        throw ApiError.forbidden("This API key may not add or remove adapters: its line in the keys file lacks 'admin'",
                                "insufficient_permissions");
                    }
                    byte[] body = null;
                    try {
                        body = readBody(exchange);
                        respondText(exchange, 200, AdapterRequests.handle(admin, path.equals("/v1/load_lora_adapter"), body));
                    } catch (ApiError e) {
                        if (e.refusedInput()) deadLetter(requestId, "http:POST " + path, body, e);
                        throw e;
                    }
                }
                case "/v1/completions" -> generate(exchange, caller, requestId, method, Endpoint.COMPLETIONS);
                case "/v1/chat/completions" -> generate(exchange, caller, requestId, method, Endpoint.CHAT_COMPLETIONS);
                default -> throw ApiError.notFound(method, path);
            }
        } catch (ApiError e) {
            if (e.status() == 405) exchange.getResponseHeaders().set("Allow", allowed(exchange.getRequestURI().getPath()));
            e.headers().forEach(exchange.getResponseHeaders()::set);
            respondQuietly(exchange, e.status(), OpenAiJson.error(e));
        } catch (RuntimeException e) {
            log.error("unexpected failure handling {} {}", exchange.getRequestMethod(), exchange.getRequestURI(), e);
            respondQuietly(exchange, 500, OpenAiJson.error(ApiError.internal("internal error handling request " + requestId + ": " + e)));
        } finally {
            exchange.close();
            MDC.clear();
        }
    }

    private void generate(HttpExchange exchange, Caller caller, String requestId, String method, Endpoint endpoint) {
        requireMethod(method, endpoint.path, "POST");
        byte[] body = null;
        CompletionRequest request;
        try {
            body = readBody(exchange);
            String tenantHeader = exchange.getRequestHeaders().getFirst(TENANT_HEADER);
            // the models the key may use: others are refused as unknown (404), as OpenAI answers models one cannot see
            var adapters = client.adapters().keySet().stream().filter(caller::mayUse).collect(java.util.stream.Collectors.toSet());
            request = endpoint == Endpoint.COMPLETIONS
                    ? parser.completion(body, tenantHeader, caller.tenant(), adapters)
                    : parser.chat(body, tenantHeader, caller.tenant(), adapters);
            if (!caller.mayUse(request.model())) throw ApiError.modelNotAllowed(request.model());
        } catch (ApiError e) {
            deadLetter(requestId, endpoint.source(), body, e);
            throw e;
        }
        if (request.adapterId() != null) MDC.put("adapter_id", request.adapterId());
        RateLimiter.Ticket ticket = admit(request, caller);
        InferenceRequest event = request.toInferenceRequest(requestId, Instant.now(), config.requestTimeout());
        if (request.stream()) {
            stream(exchange, requestId, request, event, ticket);
            return;
        }
        // n choices: n requests through Kafka (choice i is request requestId-i), answered together
        java.util.List<CompletableFuture<InferenceResponse>> pending = new java.util.ArrayList<>();
        Instant now = Instant.now();
        try {
            for (int i = 0; i < request.n(); i++) {
                InferenceRequest choice = i == 0 ? event : request.toInferenceRequest(requestId, now, config.requestTimeout(), i);
                pending.add(client.submit(choice, config.requestTimeout()));
            }
        } catch (RuntimeException e) {
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
                    .whenComplete((ok, failure) -> ticket.settle(used(ticket, pending, request.n())));
            throw e;
        }
        // every choice answered (each has its own timeout), the tokens settled before the caller hears: its next request sees them;
        // a caller that goes away meanwhile has its choices cancelled (the worker stops them at its next step and answers CANCELLED)
        try (ConnectionWatch.Handle ignored = connections.watch(exchange.getLocalAddress(), exchange.getRemoteAddress(),
                () -> cancelAll(requestId, request.n()))) {
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).exceptionally(failure -> null).join();
        }
        ticket.settle(used(ticket, pending, request.n()));
        java.util.List<InferenceResponse> responses = new java.util.ArrayList<>();
        for (CompletableFuture<InferenceResponse> f : pending) {
            InferenceResponse response;
            try {
                response = f.join();
            } catch (CompletionException e) {
                throw failed(requestId, e.getCause() != null ? e.getCause() : e);
            }
            if (response.getStatus() != ResponseStatus.OK) throw ApiError.fromPipeline(response.getError(), endpoint.promptParam);
            responses.add(response);
        }
        respond(exchange, 200, OpenAiJson.completion(request, responses));
    }

    /** The caller of a non-streaming request went away: each of its n choices is cancelled. */
    private void cancelAll(String requestId, int n) {
        log.info("client of request {} went away before its answer; cancelling it", requestId);
        for (int i = 0; i < n; i++) cancel(CompletionRequest.choiceId(requestId, i), "the HTTP client went away before the answer");
    }

    /** Publishes the cancellation of a request whose caller went away; a cancellation that cannot be sent is logged. */
    private void cancel(String requestId, String reason) {
        client.cancel(requestId, reason).whenComplete((ok, failure) -> {
            if (failure != null) log.warn("could not cancel request {}: {}", requestId, failure.toString());
        });
    }

    /** One request and its reserved tokens for the caller's tenant, or the 429 saying which limit and when to try again. */
    private RateLimiter.Ticket admit(CompletionRequest request, Caller caller) {
        return switch (limiter.admit(request.tenant(), caller.limits(), request.reservedTokens())) {
            case RateLimiter.Ticket t -> t;
            case RateLimiter.Refusal r when r.kind() == RateLimiter.Kind.REQUESTS -> throw ApiError.rateLimited(
                    "Rate limit reached for tenant '" + r.tenant() + "' on requests per second: limit " + format(r.limit())
                            + ". Please try again in " + r.retryAfterSeconds() + "s.", "requests", r.retryAfterSeconds());
            case RateLimiter.Refusal r when r.never() -> throw ApiError.rateLimited(
                    "Request too large for tenant '" + r.tenant() + "' on tokens per minute: limit " + format(r.limit()) + ", requested "
                            + format(r.requested()) + " (prompt estimate + max_tokens, per choice). Use a shorter prompt, fewer "
                            + "max_tokens or a smaller n.", "tokens", -1);
            case RateLimiter.Refusal r -> throw ApiError.rateLimited(
                    "Rate limit reached for tenant '" + r.tenant() + "' on tokens per minute: limit " + format(r.limit()) + ", requested "
                            + format(r.requested()) + ". Please try again in " + r.retryAfterSeconds() + "s.", "tokens", r.retryAfterSeconds());
        };
    }

    private static String format(double v) { return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v); }

    /**
     * The tokens n choices used, once the ones sent are all done: what the answers say (an error used none, a choice that
     * could not be sent none); a choice that got no answer in time (it may still be generated) keeps its share of the reservation.
     */
    private static long used(RateLimiter.Ticket ticket, java.util.List<CompletableFuture<InferenceResponse>> pending, int n) {
        long share = ticket.reserved() / Math.max(1, n);
        long used = 0;
        for (CompletableFuture<InferenceResponse> f : pending) {
            used += !f.isCompletedExceptionally() ? usage(f.join()) : timedOut(f.exceptionNow()) ? share : 0;
        }
        return used;
    }

    private static boolean timedOut(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) if (c instanceof RequestTimeoutException) return true;
        return false;
    }

    private static long usage(InferenceResponse r) {
        return r == null || r.getStatus() != ResponseStatus.OK ? 0 : (long) r.getPromptTokens() + r.getCompletionTokens();
    }

    /** What the caller is told when its request got no response: a timeout, or a transport failure. */
    private ApiError failed(String requestId, Throwable cause) {
        if (cause instanceof RequestTimeoutException) return ApiError.timeout(requestId, config.requestTimeout().toMillis());
        log.warn("request {} failed in transport: {}", requestId, cause.getMessage());
        return ApiError.unavailable("request " + requestId + " was not taken by Kafka: " + cause.getMessage() + "; try again");
    }

    /**
     * Answers as server-sent events in OpenAI's chunk format: for chat a first chunk with the
     * assistant role, then the text as it arrives over inference.stream (what has arrived since
     * the last write goes in one chunk), a last chunk with the finish reason, the usage chunk when
     * asked for, and {@code data: [DONE]}. A failure after the headers went out is an event with
     * OpenAI's error object, then {@code [DONE]}.
     */
    private void stream(HttpExchange exchange, String requestId, CompletionRequest request, InferenceRequest event, RateLimiter.Ticket ticket) {
        LinkedBlockingQueue<String> pieces = new LinkedBlockingQueue<>();
        CompletableFuture<InferenceResponse> done;
        try {
            done = client.stream(event, config.requestTimeout(), pieces::add);
        } catch (IngestException | IllegalStateException | IllegalArgumentException e) {
            ticket.settle(0);
            throw ApiError.unavailable("request " + requestId + " could not be sent to Kafka: " + e.getMessage() + "; try again");
        }
        done.whenComplete((r, failure) -> ticket.settle(failure == null ? usage(r) : timedOut(failure) ? ticket.reserved() : 0));
        long created = Instant.now().getEpochSecond();
        try {
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
            exchange.getResponseHeaders().set("Cache-Control", "no-cache");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            if (request.endpoint() == Endpoint.CHAT_COMPLETIONS) event(out, OpenAiJson.chunk(request, requestId, created, "assistant", "", null));
            while (true) {
                String first = pieces.poll(20, TimeUnit.MILLISECONDS);
                boolean finished = first == null && done.isDone();
                StringBuilder text = new StringBuilder(first == null ? "" : first);
                for (String more; (more = pieces.poll()) != null; ) text.append(more);
                if (!text.isEmpty()) event(out, OpenAiJson.chunk(request, requestId, created, null, text.toString(), null));
                if (finished && pieces.isEmpty()) break;
            }
            ObjectNode last;
            InferenceResponse response = null;
            try {
                response = done.join();
                ticket.settle(usage(response));
                last = response.getStatus() == ResponseStatus.OK ? null : OpenAiJson.error(ApiError.fromPipeline(response.getError(), request.endpoint().promptParam));
            } catch (CompletionException e) {
                last = OpenAiJson.error(failed(requestId, e.getCause() == null ? e : e.getCause()));
            }
            if (last != null) {
                event(out, last);
            } else {
                event(out, OpenAiJson.chunk(request, requestId, created, null, null, OpenAiJson.finishReason(response.getFinishReason())));
                if (request.includeUsage()) event(out, OpenAiJson.usageChunk(request, requestId, created, response));
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            log.info("streaming client of request {} went away ({}); cancelling it", requestId, e.toString());
            if (!done.isDone()) cancel(requestId, "the HTTP client went away during the stream");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void event(OutputStream out, ObjectNode body) throws IOException {
        out.write("data: ".getBytes(StandardCharsets.UTF_8));
        out.write(OpenAiJson.JSON.writeValueAsBytes(body));
        out.write("\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private byte[] readBody(HttpExchange exchange) {
        int limit = config.maxBodyBytes();
        String declared = exchange.getRequestHeaders().getFirst("Content-Length");
        if (declared != null) {
            try {
                long length = Long.parseLong(declared.trim());
                if (length > limit) throw ApiError.tooLarge(length, limit);
            } catch (NumberFormatException e) {
                // let the server's own framing decide; the read below still bounds the size
            }
        }
        try (InputStream in = exchange.getRequestBody()) {
            byte[] body = in.readNBytes(limit + 1);
            if (body.length > limit) throw ApiError.tooLarge(-1, limit);
            return body;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the request body: " + e.getMessage(), e);
        }
    }

    /** @param source the endpoint, as the dead letter's source_topic: {@code http:POST /v1/...} */
    private void deadLetter(String requestId, String source, byte[] body, ApiError error) {
        DeadLetter letter = DeadLetters.of(source, -1, -1L, null, body, requestId, error.pipelineCode(), error.param(), error.getMessage(),
                "ingest", Instant.now());
        log.info("refused {} request {}: {} ({})", source, requestId, error.getMessage(), error.pipelineCode());
        client.deadLetter(letter).whenComplete((ok, failure) -> {
            if (failure != null) {
                log.error("could not dead-letter refused request {} ({}): {}", requestId, error.getMessage(), failure.toString());
            }
        });
    }

    private static void requireMethod(String method, String path, String allowed) {
        if (!allowed.equals(method)) throw ApiError.methodNotAllowed(method, path, allowed);
    }

    private static String allowed(String path) {
        return path.startsWith(MODELS_PATH) || path.equals("/health") || path.equals("/ready") ? "GET" : "POST";
    }

    /** {@code GET /v1/models/{id}}: the backbone or a catalog adapter the caller may use, else 404 naming it. */
    private ObjectNode model(Caller caller, String id) {
        if (!caller.mayUse(id)) throw ApiError.modelNotAllowed(id);
        if (id.equals(config.backboneModelName())) return OpenAiJson.backbone(id, config.maxModelLen());
        var adapter = client.adapters().get(id);
        if (adapter == null) throw ApiError.unknownModel(id);
        return OpenAiJson.adapter(config.backboneModelName(), adapter, config.maxModelLen());
    }

    private static void respond(HttpExchange exchange, int status, ObjectNode body) {
        try {
            respond(exchange, status, "application/json", OpenAiJson.JSON.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write response JSON", e);
        }
    }

    private static void respondText(HttpExchange exchange, int status, String text) {
        respond(exchange, status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
    }

    private static void respond(HttpExchange exchange, int status, String contentType, byte[] bytes) {
        try {
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void respondQuietly(HttpExchange exchange, int status, ObjectNode body) {
        try {
            respond(exchange, status, body);
        } catch (RuntimeException e) {
            log.debug("could not send the HTTP {} answer: {}", status, e.toString());
        }
    }
}
