package dev.lorastream.ingest.internal;

import dev.lorastream.ingest.IngestException;
import dev.lorastream.ingest.RequestTimeoutException;
import dev.lorastream.schemas.InferenceResponse;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Futures of requests awaiting their response, by request id. Each one times out on its own
 * with a {@link RequestTimeoutException}; once settled it stays claimable for {@code retention}
 * (so that {@code await} after the answer arrived still finds it) and is then forgotten.
 * Responses for ids that are not registered are refused ({@link #complete} returns false).
 */
public final class PendingRequests implements AutoCloseable {
    private final ConcurrentHashMap<String, CompletableFuture<InferenceResponse>> byId = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private final Duration retention;
    private final String replyTopic;

    public PendingRequests(String replyTopic, Duration retention) {
        this.replyTopic = replyTopic;
        this.retention = retention;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ingest-pending-timer");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Registers a request id and returns the future its response completes.
     *
     * @throws IllegalStateException when the id is already registered and not yet forgotten
     */
    public CompletableFuture<InferenceResponse> register(String requestId, Duration timeout) {
        CompletableFuture<InferenceResponse> future = new CompletableFuture<>();
        if (byId.putIfAbsent(requestId, future) != null) {
            throw new IllegalStateException("request id " + requestId + " is already pending on this client; request ids must be unique");
        }
        ScheduledFuture<?> expiry = timer.schedule(
                () -> future.completeExceptionally(new RequestTimeoutException(requestId, timeout, replyTopic)),
                timeout.toMillis(), TimeUnit.MILLISECONDS);
        future.whenComplete((response, error) -> {
            expiry.cancel(false);
            if (!timer.isShutdown()) {
                timer.schedule(() -> byId.remove(requestId, future), retention.toMillis(), TimeUnit.MILLISECONDS);
            }
        });
        return future;
    }

    /** Completes the future of the response's request id; false when the id is unknown or already settled. */
    public boolean complete(InferenceResponse response) {
        CompletableFuture<InferenceResponse> future = byId.get(response.getRequestId());
        return future != null && future.complete(response);
    }

    /** Fails the future of a request id (e.g. its send failed); false when unknown or already settled. */
    public boolean fail(String requestId, Throwable error) {
        CompletableFuture<InferenceResponse> future = byId.get(requestId);
        return future != null && future.completeExceptionally(error);
    }

    /** The future of a registered request id, or null. */
    public CompletableFuture<InferenceResponse> lookup(String requestId) { return byId.get(requestId); }

    /** Drops a request id (its future is left as it is). */
    public void forget(String requestId) { byId.remove(requestId); }

    /** Number of ids registered and not yet forgotten. */
    public int size() { return byId.size(); }

    /** Fails every unsettled future with the reason and stops the timer. */
    @Override
    public void close() {
        timer.shutdownNow();
        IngestException closed = new IngestException("the inference client was closed before a response arrived");
        byId.values().forEach(f -> f.completeExceptionally(closed));
        byId.clear();
    }
}
