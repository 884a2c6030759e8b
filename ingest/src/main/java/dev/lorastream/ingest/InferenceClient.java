package dev.lorastream.ingest;

import dev.lorastream.schemas.SchemaTrust;
import dev.lorastream.ingest.internal.PendingRequests;
import dev.lorastream.ingest.internal.TextStreams;
import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.CancelRequest;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.GenerationParams;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Request-reply over the pipeline: {@link #submit} publishes an {@link InferenceRequest} (key:
 * its request id) and returns a future that the matching {@link InferenceResponse} completes, OK
 * or ERROR alike. Responses for ids this client did not submit are ignored, and so are responses naming another tenant
 * than the request's (the router's answer to another tenant reusing the id). A request that gets
 * no answer in time completes exceptionally with a {@link RequestTimeoutException}. Thread-safe.
 */
public final class InferenceClient implements AutoCloseable {
    static {
        SchemaTrust.ensure();
    }

    private static final Logger log = LoggerFactory.getLogger(InferenceClient.class);
    private static final Duration MIN_RETENTION = Duration.ofMinutes(1);

    private final RequestGateway gateway;
    private final Duration defaultTimeout;
    private final PendingRequests pending;
    private final TextStreams streams = new TextStreams();
    private final AtomicBoolean closed = new AtomicBoolean();

    /** A client over Kafka: creates the reply topic if missing and starts reading it at its current end. */
    public InferenceClient(ClientConfig config) {
        this(new KafkaRequestGateway(config), config.defaultTimeout());
    }

    /** A client over any transport (tests use an in-memory one); starts the gateway. */
    public InferenceClient(RequestGateway gateway, Duration defaultTimeout) {
        this.gateway = Objects.requireNonNull(gateway, "gateway");
        this.defaultTimeout = requirePositive(defaultTimeout);
        this.pending = new PendingRequests(gateway.replyTopic(),
                defaultTimeout.compareTo(MIN_RETENTION) > 0 ? defaultTimeout : MIN_RETENTION);
        gateway.start(this::onResponse);
        gateway.startStream(streams::accept);
    }

    /** A fresh, globally unique request id. */
    public static String newRequestId() { return UUID.randomUUID().toString(); }

    /** {@link #submit(InferenceRequest, Duration)} with the configured default timeout. */
    public CompletableFuture<InferenceResponse> submit(InferenceRequest request) {
        return submit(request, defaultTimeout);
    }

    /**
     * Publishes the request and returns a future for its response. The request id is required
     * (see {@link #newRequestId()}); a missing reply topic is set to this client's and a missing
     * deadline to now + timeout. Send failures and timeouts complete the future exceptionally.
     *
     * @throws IllegalArgumentException when the request id is empty or the reply topic is not the one this client reads
     * @throws IllegalStateException when the client is closed or the id is already pending
     */
    public CompletableFuture<InferenceResponse> submit(InferenceRequest request, Duration timeout) {
        Objects.requireNonNull(request, "request");
        requirePositive(timeout);
        if (closed.get()) throw new IllegalStateException("the inference client is closed");
        String id = request.getRequestId();
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("request_id is empty: every request needs a unique id, e.g. InferenceClient.newRequestId()");
        }
        String replyTopic = gateway.replyTopic();
        if (request.getReplyTopic() != null && !request.getReplyTopic().equals(replyTopic)) {
            throw new IllegalArgumentException("reply_topic '" + request.getReplyTopic() + "' of request " + id
                    + " is not the topic this client reads ('" + replyTopic + "')");
        }
        InferenceRequest.Builder outgoing = InferenceRequest.newBuilder(request).setReplyTopic(replyTopic);
        if (request.getDeadlineMs() == null) outgoing.setDeadlineMs(Instant.now().plus(timeout));
        CompletableFuture<InferenceResponse> future = pending.register(id, request.getTenant(), timeout);
        try {
            gateway.send(outgoing.build()).whenComplete((ok, error) -> {
                if (error != null) {
                    pending.fail(id, new IngestException("could not publish request " + id + " via " + gateway.describe() + ": " + error.getMessage(), error));
                }
            });
        } catch (RuntimeException e) {
            pending.fail(id, new IngestException("could not publish request " + id + " via " + gateway.describe() + ": " + e.getMessage(), e));
        }
        return future.copy();
    }

    /**
     * {@link #submit(InferenceRequest, Duration)} asking the worker to stream: {@code text} is told
     * the generated text in pieces as tokens arrive over inference.stream, each piece once, in
     * order, on a reader thread (keep it short), and the rest of the response's text before the
     * future completes. Pieces from a second attempt (the request served again after its worker
     * died) continue where the told text ends. If an attempt generated different text than the one
     * before it (sampling without a seed), the told text cannot be taken back: the future then
     * completes exceptionally with an {@link IngestException} saying so, the response's text being
     * the one of record.
     */
    public CompletableFuture<InferenceResponse> stream(InferenceRequest request, Duration timeout, Consumer<String> text) {
        Objects.requireNonNull(text, "text");
        InferenceRequest streaming = InferenceRequest.newBuilder(request)
                .setParams(GenerationParams.newBuilder(request.getParams()).setStream(true).build()).build();
        String id = request.getRequestId();
        if (id != null && !id.isBlank()) streams.register(id, text);
        CompletableFuture<InferenceResponse> response;
        try {
            response = submit(streaming, timeout);
        } catch (RuntimeException e) {
            if (id != null) streams.forget(id);
            throw e;
        }
        return response.handle((r, error) -> {
            if (error != null) {
                streams.forget(id);
                throw error instanceof CompletionException c ? c : new CompletionException(error);
            }
            boolean consistent = streams.finish(id, r.getStatus() == ResponseStatus.OK ? r.getText() : "");
            if (!consistent) {
                throw new CompletionException(new IngestException("request " + id + " was generated twice with different text (worker failover "
                        + "without a seed); the streamed text is not the response's: " + r.getText(), null));
            }
            return r;
        });
    }

    /**
     * Waits for the response of a request submitted through this client and claims it.
     *
     * @throws IllegalArgumentException when the id was not submitted here (or was already claimed)
     * @throws RequestTimeoutException when no response arrived in time
     * @throws IngestException when the request could not be sent or the client was closed
     */
    public InferenceResponse await(String requestId, Duration timeout) {
        requirePositive(timeout);
        CompletableFuture<InferenceResponse> future = pending.lookup(requestId);
        if (future == null) {
            throw new IllegalArgumentException("request id " + requestId + " was not submitted through this client (or its response was already claimed)");
        }
        try {
            InferenceResponse response = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            pending.forget(requestId);
            return response;
        } catch (TimeoutException e) {
            throw new RequestTimeoutException(requestId, timeout, gateway.replyTopic());
        } catch (ExecutionException e) {
            pending.forget(requestId);
            if (e.getCause() instanceof IngestException ingest) throw ingest;
            throw new IngestException("request " + requestId + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IngestException("interrupted while waiting for the response of request " + requestId, e);
        }
    }

    /** Submits and awaits in one step (the id is forgotten afterwards). */
    public InferenceResponse call(InferenceRequest request, Duration timeout) {
        submit(request, timeout);
        return await(request.getRequestId(), timeout);
    }

    /**
     * Asks the workers to stop generating a request this client submitted (its caller went away):
     * the worker that has it drops it at the engine's next step and answers CANCELLED. Completes
     * when the cancellation is published.
     */
    public CompletableFuture<Void> cancel(String requestId, String reason) {
        try {
            return gateway.cancel(CancelRequest.newBuilder().setRequestId(requestId).setReason(reason).setRequestedAtMs(Instant.now()).build());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Publishes a dead letter about input refused on the ingest side. */
    public CompletableFuture<Void> deadLetter(DeadLetter letter) {
        try {
            return gateway.deadLetter(letter);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The adapters of the catalog, by id (empty until the catalog has been read). */
    public Map<String, AdapterDescriptor> adapters() { return gateway.adapters(); }

    public Duration defaultTimeout() { return defaultTimeout; }

    public String replyTopic() { return gateway.replyTopic(); }

    /** Number of requests registered and not yet claimed or expired (for tests and metrics). */
    public int pendingCount() { return pending.size(); }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        try {
            gateway.close();
        } finally {
            pending.close();
        }
    }

    private void onResponse(InferenceResponse response) {
        if (response == null || response.getRequestId() == null) return;
        if (!pending.complete(response)) {
            log.debug("ignoring response for request {}: not pending on this client", response.getRequestId());
        }
    }

    private static Duration requirePositive(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        return timeout;
    }
}
