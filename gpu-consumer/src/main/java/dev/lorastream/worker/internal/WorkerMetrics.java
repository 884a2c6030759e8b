package dev.lorastream.worker.internal;

import dev.lorastream.engine.InferenceEngine;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The worker's counters and gauges, under one prefix. Written by the poll loop, read by the
 * heartbeat and by anyone who asks for a {@link #snapshot()}.
 */
public final class WorkerMetrics {
    public static final String PREFIX = "lorastream.worker.";
    public static final String SERVED = PREFIX + "requests.served";
    public static final String ERROR_RESPONSES = PREFIX + "responses.error";
    public static final String DEAD_LETTERS = PREFIX + "dead.letters";
    public static final String ENGINE_FAILURES = PREFIX + "engine.batch.failures";
    /** Engine batches: a generate-only engine's generate calls, a continuous engine's forward passes. */
    public static final String BATCHES = PREFIX + "engine.batches";
    /** Requests stopped mid-generation because their deadline passed. */
    public static final String CANCELLED = PREFIX + "requests.cancelled";
    public static final String COMMITS = PREFIX + "transactions.committed";
    public static final String ABORTS = PREFIX + "transactions.aborted";
    /** Seconds spent committing transactions (begin, sends, offsets, flush, commit), summed; ÷ commits = mean. */
    public static final String COMMIT_SECONDS = PREFIX + "transactions.commit.seconds";
    /** Records whose output could not be published and was replaced by an error answer and a dead letter. */
    public static final String UNPUBLISHABLE = PREFIX + "records.unpublishable";
    /** Records of which nothing could be published, not even a dead letter: committed past, logged as errors. */
    public static final String DROPPED = PREFIX + "records.dropped";
    /** Transactions on the pipeline's topics aborted by this worker's transaction watchdog ({@code lorastream_transactions_aborted_by_watchdog_total}). */
    public static final String WATCHDOG_ABORTS = "lorastream.transactions.aborted.by.watchdog";
    public static final String RUNNING = PREFIX + "requests.running";
    public static final String WAITING = PREFIX + "requests.waiting";

    private final AtomicLong served = new AtomicLong();
    private final AtomicLong errorResponses = new AtomicLong();
    private final AtomicLong deadLetters = new AtomicLong();
    private final AtomicLong engineFailures = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong cancelled = new AtomicLong();
    private final AtomicLong commits = new AtomicLong();
    private final AtomicLong aborts = new AtomicLong();
    private final AtomicLong commitNanos = new AtomicLong();
    private final AtomicLong unpublishable = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicInteger waiting = new AtomicInteger();
    private volatile List<String> residentAdapters = List.of();
    private volatile LongSupplier enginePasses = () -> 0;
    private volatile LongSupplier watchdogAborts = () -> 0;

    public void committed(OutputBatch out) { committed(out, 0); }

    /** A committed transaction and how long its commit took. */
    public void committed(OutputBatch out, long nanos) {
        commits.incrementAndGet();
        commitNanos.addAndGet(Math.max(0, nanos));
        served.addAndGet(out.attributions());
        errorResponses.addAndGet(out.errorResponses());
        deadLetters.addAndGet(out.deadLetters());
    }

    public void aborted() { aborts.incrementAndGet(); }

    /** One record's output replaced because it could not be published. */
    public void unpublishable() { unpublishable.incrementAndGet(); }

    /** One record of which nothing could be published. */
    public void dropped() { dropped.incrementAndGet(); }

    public long unpublishableCount() { return unpublishable.get(); }

    public long droppedCount() { return dropped.get(); }

    /** One batch through a generate-only engine (one {@code generate} call). */
    public void batchRun() { batches.incrementAndGet(); }

    /**
     * Counts the forward passes of an engine that batches continuously ({@link InferenceEngine#forwardPasses}) as
     * batches: requests are handed to it one by one and it runs them together, pass by pass.
     */
    public void countBatchesOf(InferenceEngine engine) { enginePasses = engine::forwardPasses; }

    /** Batches run: generate calls, plus the continuous engine's forward passes. */
    public long batches() { return batches.get() + enginePasses.getAsLong(); }

    /** Counts the aborts of the worker's transaction watchdog. */
    public void countWatchdogAborts(LongSupplier aborts) { watchdogAborts = aborts; }

    public long watchdogAborts() { return watchdogAborts.getAsLong(); }

    public void engineFailure() { engineFailures.incrementAndGet(); }

    /** One request stopped mid-generation (its deadline passed). */
    public void cancelled() { cancelled.incrementAndGet(); }

    public long cancelledCount() { return cancelled.get(); }

    public void load(int runningNow, int waitingNow) {
        running.set(runningNow);
        waiting.set(waitingNow);
    }

    public void residentAdapters(List<String> adapters) { residentAdapters = List.copyOf(adapters); }

    public int running() { return running.get(); }

    public int waiting() { return waiting.get(); }

    public List<String> residentAdapters() { return residentAdapters; }

    public long served() { return served.get(); }

    public long commits() { return commits.get(); }

    public long aborts() { return aborts.get(); }

    /** Nanoseconds spent committing transactions, summed. */
    public long commitNanos() { return commitNanos.get(); }

    /** Mean milliseconds per committed transaction; 0 before the first. */
    public double meanCommitMs() {
        long n = commits.get();
        return n == 0 ? 0 : commitNanos.get() / 1e6 / n;
    }

    public Map<String, Number> snapshot() {
        Map<String, Number> m = new LinkedHashMap<>();
        m.put(SERVED, served.get());
        m.put(ERROR_RESPONSES, errorResponses.get());
        m.put(DEAD_LETTERS, deadLetters.get());
        m.put(ENGINE_FAILURES, engineFailures.get());
        m.put(BATCHES, batches());
        m.put(CANCELLED, cancelled.get());
        m.put(COMMITS, commits.get());
        m.put(ABORTS, aborts.get());
        m.put(COMMIT_SECONDS, commitNanos.get() / 1e9);
        m.put(UNPUBLISHABLE, unpublishable.get());
        m.put(DROPPED, dropped.get());
        m.put(WATCHDOG_ABORTS, watchdogAborts.getAsLong());
        m.put(RUNNING, running.get());
        m.put(WAITING, waiting.get());
        return m;
    }
}
