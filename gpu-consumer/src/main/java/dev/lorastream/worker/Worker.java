package dev.lorastream.worker;

import dev.lorastream.schemas.ops.TransactionWatchdog;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicDirectory;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.ModelInfo;
import dev.lorastream.worker.internal.AttributionFactory;
import dev.lorastream.worker.internal.Backoff;
import dev.lorastream.worker.internal.BatchProcessor;
import dev.lorastream.worker.internal.DeadLetters;
import dev.lorastream.worker.internal.GenerationRunner;
import dev.lorastream.worker.internal.Heartbeat;
import dev.lorastream.worker.internal.TokenStreams;
import dev.lorastream.worker.internal.AdapterFollower;
import dev.lorastream.worker.internal.Cancellations;
import dev.lorastream.worker.internal.KafkaWorkerClients;
import dev.lorastream.worker.internal.PollLoop;
import dev.lorastream.worker.internal.RequestDecoder;
import dev.lorastream.worker.internal.ResponseFactory;
import dev.lorastream.worker.internal.StatusFactory;
import dev.lorastream.worker.internal.TaskFactory;
import dev.lorastream.worker.internal.WorkerClients;
import dev.lorastream.worker.internal.WorkerMetrics;
import dev.lorastream.worker.internal.WorkerState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A GPU worker: a member of the consumer group on inference.requests.routed that answers every
 * request through the engine and publishes responses, attribution events and dead letters
 * together with its consumed offsets, plus heartbeats on workers.status. The poll loop keeps
 * polling while the engine decodes, hands requests to {@link InferenceEngine#submit} as they arrive
 * and, each iteration, commits one transaction with what has finished and the offsets up to each
 * partition's first unfinished record (see {@link PollLoop}). {@link #start()} runs the poll loop
 * on its own thread; {@link #close()} stops it after the iteration in progress; requests still in
 * the engine then are left uncommitted, for the next owner to read again. The engine stays the
 * caller's to close. Each worker also runs a {@link TransactionWatchdog} (unless disabled): transactions on
 * the pipeline's topics that stall read_committed readers (hanging, or held by a frozen producer) are aborted.
 */
public final class Worker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Worker.class);

    private final WorkerConfig config;
    private final WorkerClients clients;
    private final WorkerMetrics metrics = new WorkerMetrics();
    private final PollLoop loop;
    private final Heartbeat heartbeat;
    private final TokenStreams streams;
    private final Cancellations cancellations;
    private final AdapterFollower adapters;
    private final TopicDirectory topics;
    /** Aborts transactions that stall read_committed readers of the pipeline's topics; null when disabled. */
    private final TransactionWatchdog watchdog;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private volatile WorkerState state = WorkerState.STARTING;
    private Thread thread;
    private boolean closed;

    public Worker(WorkerConfig config, InferenceEngine engine) {
        this(config, engine, new KafkaWorkerClients(config), Clock.systemUTC());
    }

    /** With the given clients (mock clients in tests) and clock. */
    public Worker(WorkerConfig config, InferenceEngine engine, WorkerClients clients, Clock clock) {
        this.config = config;
        this.clients = clients;
        SchemaRegistryClient registry = clients.registry();
        this.topics = clients.topics();
        BatchProcessor processor = new BatchProcessor(engine, new RequestDecoder(registry), new TaskFactory(engine, topics),
                new ResponseFactory(config.workerId(), clock, topics, engine::decode, config.replyTopicPattern()), new AttributionFactory(config.workerId(), engine, clock),
                new DeadLetters(clock),
                new GenerationRunner(engine, config.engineMaxAttempts(), new Backoff(config.retryBackoff(), config.retryBackoffMax())),
                config.maxBatchSize(), clock, metrics);
        this.loop = new PollLoop(clients.requestConsumer(), clients::transactionalProducer, processor, engine, metrics,
                config.pollTimeout(), new Backoff(config.retryBackoff(), config.retryBackoffMax()))
                .leaveGroupOnClose(clients.leaveGroupOnClose());
        ModelInfo model = engine.model();
        StatusFactory status = new StatusFactory(config.workerId(), model.executionProvider(), model.baseModel(),
                () -> state, loop.assignment(), metrics, engine::load, config.heartbeatInterval(), clock);
        this.heartbeat = new Heartbeat(config.workerId(), config.heartbeatInterval(), clients.statusProducer(), status::status);
        this.streams = new TokenStreams(config.workerId(), engine::decode, clients.streamProducer(), clock);
        loop.inFlight().streamTo(streams);
        var cancelConsumer = clients.cancelConsumer();
        this.cancellations = cancelConsumer == null ? null : new Cancellations(cancelConsumer, config.workerId());
        if (cancellations != null) loop.inFlight().cancelledBy(cancellations::of);
        var catalogConsumer = clients.catalogConsumer();
        this.adapters = catalogConsumer == null ? null : new AdapterFollower(catalogConsumer, engine, config.workerId());
        this.watchdog = clients.transactionWatchdog();
        if (watchdog != null) metrics.countWatchdogAborts(watchdog::aborted);
    }

    /**
     * Starts heartbeats and the poll loop; returns once the transactional producer is initialised
     * (any older instance with the same worker id is fenced from then on) and the consumer subscribed.
     *
     * @throws IllegalStateException when already started, or when the clients cannot be initialised
     */
    public synchronized void start() {
        if (thread != null || closed) throw new IllegalStateException("worker " + config.workerId() + " was already started");
        log.info("starting worker {} ({})", config.workerId(), config);
        heartbeat.start();
        if (watchdog != null) watchdog.start();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        thread = new Thread(() -> runLoop(ready), "lorastream-worker-" + config.workerId());
        thread.start();
        try {
            ready.get();
        } catch (ExecutionException e) {
            close();
            throw new IllegalStateException("worker " + config.workerId() + " could not start: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted starting worker " + config.workerId(), e);
        }
        state = WorkerState.RUNNING;
    }

    private void runLoop(CompletableFuture<Void> ready) {
        try {
            loop.init();
            ready.complete(null);
        } catch (RuntimeException e) {
            ready.completeExceptionally(e);
            loop.stop();
        }
        try {
            loop.run();
        } catch (RuntimeException | Error e) {
            log.error("worker {} poll loop died", config.workerId(), e);
        } finally {
            state = WorkerState.STOPPING;
            stopped.complete(null);
            log.info("worker {} poll loop ended{}", config.workerId(),
                    loop.failure() == null ? "" : " (" + loop.failure() + ")");
        }
    }

    public WorkerState state() { return state; }

    public WorkerConfig config() { return config; }

    public WorkerMetrics metrics() { return metrics; }

    /** Whether the poll loop is running. */
    public boolean isRunning() { return thread != null && !stopped.isDone(); }

    /** Why the poll loop ended on its own (another worker with the same id fenced this one), if it did. */
    public Optional<Throwable> failure() { return Optional.ofNullable(loop.failure()); }

    /** Waits until the poll loop has ended (after {@link #close()} or on its own); false on timeout. */
    public boolean awaitStop(Duration timeout) throws InterruptedException {
        try {
            stopped.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    /**
     * Stops the loop after the iteration in progress (committed if it completes, aborted if it is
     * interrupted after {@code shutdown.timeout.ms}; requests still running in the engine are
     * abandoned uncommitted), leaves the group, publishes a STOPPING
     * heartbeat and closes the clients.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        state = WorkerState.STOPPING;
        loop.stop();
        if (thread != null) {
            try {
                thread.join(config.shutdownTimeout().toMillis());
                if (thread.isAlive()) {
                    log.warn("worker {} batch still running after {} ms; interrupting it", config.workerId(),
                            config.shutdownTimeout().toMillis());
                    thread.interrupt();
                    thread.join(30_000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else {
            loop.run(); // never started: ends at once and closes the clients
            stopped.complete(null);
        }
        heartbeat.close();
        streams.close();
        if (cancellations != null) cancellations.close();
        if (adapters != null) adapters.close();
        if (watchdog != null) watchdog.close();
        topics.close();
        log.info("worker {} closed: {}", config.workerId(), metrics.snapshot());
    }
}
