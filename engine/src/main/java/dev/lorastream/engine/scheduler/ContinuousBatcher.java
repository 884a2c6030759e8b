package dev.lorastream.engine.scheduler;

import dev.lorastream.engine.runtime.DecoderSession;
import dev.lorastream.engine.runtime.KvCache;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.adapters.cache.AdapterCache;
import dev.lorastream.engine.adapters.cache.AdapterMetrics;
import dev.lorastream.engine.adapters.AdapterBank;
import dev.lorastream.engine.adapters.LoraAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Iteration-level (continuous) batching: requests join and leave the running batch between
 * forward passes. Each {@link #step} admits waiting requests whose adapter has (or gets) a
 * device slot, prefills them together, runs one decode step for the rows already running, and
 * retires finished rows.
 *
 * <p>The KV cache is kept per sequence inside one batch cache: row r holds its sequence's
 * {@code kvLength} tokens right-aligned, positions before them masked. While the batch does not
 * change, each step's present tensors are fed back as they are. When rows join, the staying rows
 * and the joiners' prefill rows are copied into a new cache of the longest length
 * ({@link KvCache#compose}); a row that leaves stays behind as a masked dead row until then, or
 * until dead rows are as many as live ones. Every row thus sees exactly its own tokens at its
 * own positions, so each gets the tokens it gets alone.
 *
 * <p>Admission is first come, first served: a request whose adapter finds every device slot held
 * by running rows waits (it does not fail), and adapter requests behind it wait too so that it is
 * not starved; requests on the plain backbone and requests whose adapter is still loading do
 * not block others. A request whose adapter fails to load fails with the load's reason.
 *
 * <p>{@link #submit} is thread-safe. {@link #step} runs under a lock; call it from one driving
 * thread, or {@link #start} the batcher's own loop.
 */
public final class ContinuousBatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ContinuousBatcher.class);

    /** The checks a task passes before it waits (no adapter loads). */
    @FunctionalInterface
    public interface Admission {
        void check(GenerationTask task) throws InvalidTaskException;
    }

    private final OrtEnvironment env;
    private final DecoderSession session;
    private final AdapterBank bank;
    private final AdapterCache cache;
    private final AdapterMetrics metrics;
    private final Admission admission;
    private final int layers;
    private final int maxBatch;
    private final int padId;
    private final Set<Integer> eosIds;

    private final ReentrantLock stepLock = new ReentrantLock();
    private final Object queueLock = new Object();
    /** Guarded by queueLock. */
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    /** Guarded by queueLock: something happened since the last {@link #awaitWork}. */
    private boolean signalled;
    /** The rows of the batch cache in order, null for a dead row; touched under stepLock only. */
    private List<Sequence> running = List.of();
    private KvCache batchCache;
    private Thread loop;
    private volatile boolean closed;
    /** Guarded by stepLock. */
    private long passes, forwardNanos, composes, composeNanos;

    /**
     * What the batcher has spent its time on: forward passes (prefill and decode) and rebuilding
     * the batch's KV cache when rows joined or left.
     */
    public record Stats(long passes, long forwardNanos, long composes, long composeNanos) {}

    public ContinuousBatcher(OrtEnvironment env, DecoderSession session, AdapterBank bank, AdapterCache cache, AdapterMetrics metrics,
                      Admission admission, int layers, int maxBatch, int padId, Set<Integer> eosIds) {
        this.env = env;
        this.session = session;
        this.bank = bank;
        this.cache = cache;
        this.metrics = metrics;
        this.admission = admission;
        this.layers = layers;
        this.maxBatch = maxBatch;
        this.padId = padId;
        this.eosIds = eosIds;
    }

    /**
     * Queues a task; the future completes when it has finished, or exceptionally with an
     * {@link InvalidTaskException} (refused before queueing), an
     * {@link dev.lorastream.engine.adapters.cache.AdapterLoadException}, or a forward-pass failure.
     * Cancelling the future takes the task out of the batch at the next step.
     */
    public CompletableFuture<Generation> submit(GenerationTask task) {
        return submit(task, Sequence.Observer.NONE, true);
    }

    /**
     * @param countHostLookup whether to count a host-tier hit or miss for the task's adapter
     *                        (false when its validation already looked it up)
     */
    public CompletableFuture<Generation> submit(GenerationTask task, Sequence.Observer observer, boolean countHostLookup) {
        try {
            admission.check(task);
        } catch (InvalidTaskException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (closed) return CompletableFuture.failedFuture(new IllegalStateException("the engine is closed"));
        Sequence s = new Sequence(task, observer);
        String id = task.adapterId();
        if (id != null && !cache.onDevice(id)) s.hostCopy = fetch(id, countHostLookup);
        synchronized (queueLock) {
            if (closed) return CompletableFuture.failedFuture(new IllegalStateException("the engine is closed"));
            waiting.addLast(s);
            metrics.waitingChanged(id, 1);
            signalLocked();
        }
        return s.result;
    }

    private CompletableFuture<LoraAdapter> fetch(String id, boolean counted) {
        CompletableFuture<LoraAdapter> f = counted ? cache.fetch(id) : cache.prefetch(id);
        f.whenComplete((a, e) -> signal());
        return f;
    }

    /**
     * One iteration: admit, prefill the joiners, decode the running rows, retire the finished.
     *
     * @return whether a forward pass ran (false: nothing to run, or every waiting request waits for a load)
     */
    public boolean step() {
        stepLock.lock();
        try {
            if (closed) return false;
            List<Sequence> joiners = admit();
            KvCache joined = null;
            boolean ran = false;
            if (!joiners.isEmpty()) {
                ran = true;
                try {
                    joined = prefill(joiners);
                } catch (OrtException | RuntimeException e) {
                    fail(joiners, new IllegalStateException("prefill failed: " + e.getMessage(), e));
                    joiners = List.of();
                }
            }
            if (live() > 0) {
                ran = true;
                try {
                    decode();
                } catch (OrtException | RuntimeException e) {
                    fail(liveRows(), new IllegalStateException("decode step failed: " + e.getMessage(), e));
                    running = List.of();
                    closeBatchCache();
                }
            }
            regroup(joiners, joined);
            return ran;
        } finally {
            stepLock.unlock();
        }
    }

    private List<Sequence> admit() {
        List<Sequence> joiners = new ArrayList<>();
        int room = maxBatch - live();
        synchronized (queueLock) {
            boolean blocked = false;
            for (Iterator<Sequence> it = waiting.iterator(); it.hasNext() && joiners.size() < room; ) {
                Sequence s = it.next();
                String id = s.adapterId();
                if (s.result.isDone()) {
                    it.remove();
                    metrics.waitingChanged(id, -1);
                    continue;
                }
                if (id == null) {
                    s.slot = AdapterBank.BASE_SLOT;
                } else {
                    if (blocked) continue;
                    AdapterCache.Placement p = cache.acquire(id, s.hostCopy);
                    if (p instanceof AdapterCache.Failed f) {
                        it.remove();
                        metrics.waitingChanged(id, -1);
                        s.result.completeExceptionally(f.cause());
                        continue;
                    }
                    if (p instanceof AdapterCache.Waiting w) {
                        if (w.reason() == AdapterCache.WaitReason.DEVICE_FULL) blocked = true;
                        else if (s.hostCopy == null) s.hostCopy = fetch(id, true);
                        continue;
                    }
                    s.slot = ((AdapterCache.Placed) p).slot();
                    s.holdsSlot = true;
                }
                it.remove();
                metrics.waitingChanged(id, -1);
                metrics.runningChanged(id, 1);
                joiners.add(s);
            }
        }
        return joiners;
    }

    /** One pass over the joiners' left-padded prompts with an empty cache; returns their cache. */
    private KvCache prefill(List<Sequence> joiners) throws OrtException {
        int n = joiners.size();
        int longest = joiners.stream().mapToInt(Sequence::promptLength).max().orElseThrow();
        long[][] ids = new long[n][longest], positions = new long[n][longest], mask = new long[n][longest];
        long[] slots = new long[n];
        long promptTokens = 0;
        for (int b = 0; b < n; b++) {
            Sequence s = joiners.get(b);
            int[] prompt = s.task.promptIds();
            int offset = longest - prompt.length;
            Arrays.fill(ids[b], padId);
            for (int k = 0; k < prompt.length; k++) {
                ids[b][offset + k] = prompt[k];
                positions[b][offset + k] = k;
                mask[b][offset + k] = 1;
            }
            slots[b] = s.slot;
            promptTokens += prompt.length;
        }
        boolean withLogits = joiners.stream().anyMatch(Sequence::needsLogits);
        long t0 = System.nanoTime();
        DecoderSession.Step step;
        try (KvCache empty = session.emptyCache(n)) {
            step = session.run(ids, positions, mask, slots, empty, bank, withLogits);
        }
        long ns = System.nanoTime() - t0;
        passes++;
        forwardNanos += ns;
        try {
            for (int b = 0; b < n; b++) {
                Sequence s = joiners.get(b);
                s.prefillNs = ns;
                s.computeNs += (double) ns * s.promptLength() / promptTokens;
                s.kvLength = s.promptLength();
                accept(s, step, b);
            }
        } catch (RuntimeException e) {
            step.cache().close();
            throw e;
        }
        return step.cache();
    }

    /**
     * One token for every live row, each at its own position, attending to its own tokens only;
     * dead rows get a pad token with nothing to attend to, and their output is dropped.
     */
    private void decode() throws OrtException {
        int n = running.size(), live = live();
        int past = batchCache.length();
        long[][] ids = new long[n][1], positions = new long[n][1], mask = new long[n][past + 1];
        long[] slots = new long[n];
        for (int b = 0; b < n; b++) {
            Sequence s = running.get(b);
            if (s == null) {
                ids[b][0] = padId;
                continue;
            }
            ids[b][0] = s.lastToken();
            positions[b][0] = s.kvLength;
            Arrays.fill(mask[b], past - s.kvLength, past + 1, 1L);
            slots[b] = s.slot;
        }
        boolean withLogits = false;
        for (Sequence s : running) withLogits |= s != null && s.needsLogits();
        long t0 = System.nanoTime();
        DecoderSession.Step step = session.run(ids, positions, mask, slots, batchCache, bank, withLogits);
        long ns = System.nanoTime() - t0;
        passes++;
        forwardNanos += ns;
        batchCache.close();
        batchCache = step.cache();
        for (int b = 0; b < n; b++) {
            Sequence s = running.get(b);
            if (s == null) continue;
            s.kvLength++;
            s.decodeNs += ns;
            s.computeNs += (double) ns / live;
            accept(s, step, b);
        }
    }

    /** The row's next token: sampled (or observed) from its logits, else the step's greedy token. */
    private void accept(Sequence s, DecoderSession.Step step, int row) {
        if (s.needsLogits()) s.accept(step.logits()[row], eosIds);
        else s.acceptGreedy((int) step.greedy()[row], eosIds);
    }

    /**
     * Retires finished (or cancelled) rows, leaving dead rows behind; when rows join, or dead
     * rows are as many as live ones, composes the batch's new cache without the dead rows.
     */
    private void regroup(List<Sequence> joiners, KvCache joined) {
        if (!running.isEmpty()) {
            List<Sequence> marked = new ArrayList<>(running);
            for (int i = 0; i < marked.size(); i++) {
                if (marked.get(i) != null && retire(marked.get(i))) marked.set(i, null);
            }
            running = marked;
        }
        List<Sequence> joining = new ArrayList<>();
        List<KvCache.Row> joinRows = new ArrayList<>();
        for (int i = 0; i < joiners.size(); i++) {
            Sequence s = joiners.get(i);
            if (retire(s)) continue;
            joining.add(s);
            joinRows.add(new KvCache.Row(joined, i, s.kvLength));
        }
        int live = live(), dead = running.size() - live;
        if (joining.isEmpty() && (dead == 0 || dead < live)) {
            if (joined != null) joined.close();
            return;
        }
        List<Sequence> next = new ArrayList<>();
        List<KvCache.Row> rows = new ArrayList<>();
        for (int i = 0; i < running.size(); i++) {
            Sequence s = running.get(i);
            if (s == null) continue;
            next.add(s);
            rows.add(new KvCache.Row(batchCache, i, s.kvLength));
        }
        boolean onlyJoiners = next.isEmpty() && joining.size() == joiners.size();
        next.addAll(joining);
        rows.addAll(joinRows);
        KvCache composed = null;
        try {
            if (onlyJoiners && joined != null) composed = joined;
            else if (!rows.isEmpty()) {
                long t0 = System.nanoTime();
                composed = session.compose(rows);
                composes++;
                composeNanos += System.nanoTime() - t0;
            }
        } catch (OrtException | RuntimeException e) {
            fail(next, new IllegalStateException("cannot rebuild the batch's KV cache: " + e.getMessage(), e));
            next = List.of();
        }
        if (joined != null && joined != composed) joined.close();
        closeBatchCache();
        batchCache = composed;
        running = next;
    }

    private int live() {
        int n = 0;
        for (Sequence s : running) if (s != null) n++;
        return n;
    }

    private List<Sequence> liveRows() {
        return running.stream().filter(java.util.Objects::nonNull).toList();
    }

    /** Completes a finished or cancelled sequence and releases its slot; false when it keeps running. */
    private boolean retire(Sequence s) {
        if (!s.finished() && !s.result.isDone()) return false;
        release(s);
        if (s.finished()) s.result.complete(s.generation());
        return true;
    }

    private void release(Sequence s) {
        if (s.holdsSlot) {
            s.holdsSlot = false;
            cache.release(s.adapterId());
        }
        metrics.runningChanged(s.adapterId(), -1);
    }

    private void fail(List<Sequence> sequences, RuntimeException cause) {
        if (sequences.isEmpty()) return;
        log.warn("{} request(s) failed: {}", sequences.size(), cause.getMessage());
        for (Sequence s : sequences) {
            release(s);
            s.result.completeExceptionally(cause);
        }
    }

    private void closeBatchCache() {
        if (batchCache != null) batchCache.close();
        batchCache = null;
    }

    /** Waits until a task is submitted or an adapter load ends (at most {@code millis}). */
    public void awaitWork(long millis) throws InterruptedException {
        synchronized (queueLock) {
            if (!signalled) queueLock.wait(millis);
            signalled = false;
        }
    }

    private void signal() {
        synchronized (queueLock) {
            signalLocked();
        }
    }

    private void signalLocked() {
        signalled = true;
        queueLock.notifyAll();
    }

    /**
     * Drives steps on the calling thread until every future is done (or waits for the batcher's
     * own loop when it runs).
     */
    public void runUntilDone(List<CompletableFuture<Generation>> futures) {
        CompletableFuture<Void> all = CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new));
        try {
            while (!all.isDone()) {
                if (looping()) {
                    all.handle((v, e) -> null).join();
                } else if (!step()) {
                    awaitWork(50);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while generating", e);
        }
    }

    /** Starts the batcher's own loop thread (idempotent). */
    public synchronized void start() {
        if (loop != null || closed) return;
        loop = Thread.ofPlatform().daemon().name("lorastream-batcher").start(this::loop);
    }

    private synchronized boolean looping() { return loop != null; }

    private void loop() {
        while (!closed) {
            try {
                if (!step()) awaitWork(200);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.error("batcher step failed", e);
            }
        }
    }

    public Stats stats() {
        stepLock.lock();
        try {
            return new Stats(passes, forwardNanos, composes, composeNanos);
        } finally {
            stepLock.unlock();
        }
    }

    /** Requests waiting to join the batch. */
    public int waitingCount() {
        synchronized (queueLock) {
            return waiting.size();
        }
    }

    /** Requests in the running batch. */
    public int runningCount() {
        stepLock.lock();
        try {
            return live();
        } finally {
            stepLock.unlock();
        }
    }

    /** Stops the loop and fails what is still waiting or running. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (closed) return;
            closed = true;
            t = loop;
        }
        signal();
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        stepLock.lock();
        try {
            IllegalStateException closedError = new IllegalStateException("the engine was closed");
            List<Sequence> left;
            synchronized (queueLock) {
                left = new ArrayList<>(waiting);
                waiting.clear();
            }
            for (Sequence s : left) {
                metrics.waitingChanged(s.adapterId(), -1);
                s.result.completeExceptionally(closedError);
            }
            fail(liveRows(), closedError);
            running = List.of();
            closeBatchCache();
        } finally {
            stepLock.unlock();
        }
    }
}
