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
 * Responses for ids that are not registered are refused ({@link #complete} returns false), and so are responses
 * naming another tenant than the request's: the router answers another tenant's reuse of a request id to that caller, on
 * what may be the same reply topic, and that answer is not this request's.
 */
public final class PendingRequests implements AutoCloseable {
    private record Pending(CompletableFuture<InferenceResponse> future, String tenant) {}

    private final ConcurrentHashMap<String, Pending> byId = new ConcurrentHashMap<>();
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
        return register(requestId, null, timeout);
    }

    /** @param tenant the request's tenant: a response naming another is not its answer (null: any) */
    public CompletableFuture<InferenceResponse> register(String requestId, String tenant, Duration timeout) {
        CompletableFuture<InferenceResponse> future = new CompletableFuture<>();
        Pending pending = new Pending(future, tenant);
        if (byId.putIfAbsent(requestId, pending) != null) {
            throw new IllegalStateException("request id " + requestId + " is already pending on this client; request ids must be unique");
        }
        ScheduledFuture<?> expiry = timer.schedule(
                () -> future.completeExceptionally(new RequestTimeoutException(requestId, timeout, replyTopic)),
                timeout.toMillis(), TimeUnit.MILLISECONDS);
        future.whenComplete((response, error) -> {
            expiry.cancel(false);
            if (!timer.isShutdown()) {
                timer.schedule(() -> byId.remove(requestId, pending), retention.toMillis(), TimeUnit.MILLISECONDS);
            }
        });
        return future;
    }

    /** Completes the future of the response's request id; false when the id is unknown, already settled, or the tenants differ. */
    public boolean complete(InferenceResponse response) {
        Pending pending = byId.get(response.getRequestId());
        if (pending == null) return false;
        if (pending.tenant() != null && response.getTenant() != null && !pending.tenant().equals(response.getTenant())) return false;
        return pending.future().complete(response);
    }

    /** Fails the future of a request id (e.g. its send failed); false when unknown or already settled. */
    public boolean fail(String requestId, Throwable error) {
        Pending pending = byId.get(requestId);
        return pending != null && pending.future().completeExceptionally(error);
    }

    /** The future of a registered request id, or null. */
    public CompletableFuture<InferenceResponse> lookup(String requestId) {
        Pending pending = byId.get(requestId);
        return pending == null ? null : pending.future();
    }

    /** Drops a request id (its future is left as it is). */
    public void forget(String requestId) { byId.remove(requestId); }

    /** Number of ids registered and not yet forgotten. */
    public int size() { return byId.size(); }

    /** Fails every unsettled future with the reason and stops the timer. */
    @Override
    public void close() {
        timer.shutdownNow();
        IngestException closed = new IngestException("the inference client was closed before a response arrived");
        byId.values().forEach(p -> p.future().completeExceptionally(closed));
        byId.clear();
    }
}
