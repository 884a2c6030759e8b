package dev.lorastream.engine.scheduler;

import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.TokenListener;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.adapters.AdapterBank;
import dev.lorastream.engine.adapters.LoraAdapter;
import dev.lorastream.engine.adapters.cache.AdapterCache;
import dev.lorastream.engine.adapters.cache.AdapterMetrics;
import dev.lorastream.engine.runtime.ForwardPass;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Iteration-level (continuous) batching: requests join and leave the running batch between
 * forward passes. Each {@link #step} admits waiting requests whose adapter has (or gets) a
 * device slot, prefills them into free rows of the {@link ForwardPass}, runs one decode step for
 * the rows already running, and retires finished rows (their rows are free for the next joiner).
 * Joiners take the lowest free rows, so the rows in use stay packed at the front. How a row's
 * keys and values are kept is the forward pass's business; every row sees exactly its own tokens
 * at its own positions, so each gets the tokens it gets alone.
 *
 * <p>Admission is first come, first served: a request whose adapter finds every device slot held
 * by running rows waits (it does not fail), and adapter requests behind it wait too so that it is
 * not starved; requests on the plain backbone and requests whose adapter is still loading do
 * not block others. A request whose adapter fails to load fails with the load's reason.
 *
 * <p>{@link #submit} is thread-safe. {@link #step} runs under a lock; call it from one driving
 * thread, or {@link #start} the batcher's own loop (required when the forward pass is
 * {@link ForwardPass#threadBound thread-bound}: then every step runs on the loop's thread).
 */
public final class ContinuousBatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ContinuousBatcher.class);

    /** The checks a task passes before it waits (no adapter loads). */
    @FunctionalInterface
    public interface Admission {
        void check(GenerationTask task) throws InvalidTaskException;
    }

    private final ForwardPass pass;
    private final AdapterCache cache;
    private final AdapterMetrics metrics;
    private final Admission admission;
    private final Set<Integer> eosIds;

    private final ReentrantLock stepLock = new ReentrantLock();
    private final Object queueLock = new Object();
    /** Guarded by queueLock. */
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    /** Guarded by queueLock: something happened since the last {@link #awaitWork}. */
    private boolean signalled;
    /** Running sequences by row (null: free); touched under stepLock only. */
    private final Sequence[] rows;
    private final BitSet used = new BitSet();
    private Thread loop;
    private final CompletableFuture<Void> warm = new CompletableFuture<>();
    private volatile boolean closed;
    /** Guarded by stepLock. */
    private long passes, forwardNanos, samplesOnDevice, samplesOnHost, steps;
    private final List<Consumer<Step>> stepListeners = new CopyOnWriteArrayList<>();
    private volatile Occupancy occupancy = new Occupancy(0, 0, 0);

    /**
     * What the batcher has spent its time on: forward passes (prefill and decode), and the
     * forward pass's housekeeping (rebuilding or moving rows' caches); sampled tokens the device
     * chose, and those the host sampled from logits brought back.
     */
    public record Stats(long passes, long forwardNanos, long composes, long composeNanos, long samplesOnDevice, long samplesOnHost) {
        /** What happened between {@code before} and these. */
        public Stats since(Stats before) {
            return new Stats(passes - before.passes, forwardNanos - before.forwardNanos, composes - before.composes, composeNanos - before.composeNanos,
                    samplesOnDevice - before.samplesOnDevice, samplesOnHost - before.samplesOnHost);
        }
    }

    /**
     * One step as its listeners see it: its number (steps that ran since the batcher was made,
     * from 1), when its forward passes ended ({@link System#nanoTime}), and the requests that got a
     * token in it, by request id: those admitted and prefilled (their first token) and those that
     * decoded (their next). Token times for streaming, tracing or latency measurement.
     */
    public record Step(long number, long endNanos, List<String> prefilled, List<String> decoded) {
        public Step {
            prefilled = List.copyOf(prefilled);
            decoded = List.copyOf(decoded);
        }
    }

    /**
     * Calls the listener on the stepping thread after each step that ran, before the futures of the
     * requests it finished complete (keep it short; a listener that throws is logged and skipped).
     */
    public void addStepListener(Consumer<Step> listener) { stepListeners.add(listener); }

    public void removeStepListener(Consumer<Step> listener) { stepListeners.remove(listener); }

    public ContinuousBatcher(ForwardPass pass, AdapterCache cache, AdapterMetrics metrics, Admission admission, Set<Integer> eosIds) {
        this.pass = pass;
        this.cache = cache;
        this.metrics = metrics;
        this.admission = admission;
        this.eosIds = eosIds;
        this.rows = new Sequence[pass.maxRows()];
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

    /** {@link #submit(GenerationTask)}, telling {@code tokens} of each token as a step takes it (on the stepping thread). */
    public CompletableFuture<Generation> submit(GenerationTask task, TokenListener tokens) {
        return submit(task, Sequence.Observer.NONE, tokens, true);
    }

    /**
     * @param countHostLookup whether to count a host-tier hit or miss for the task's adapter
     *                        (false when its validation already looked it up)
     */
    public CompletableFuture<Generation> submit(GenerationTask task, Sequence.Observer observer, boolean countHostLookup) {
        return submit(task, observer, TokenListener.NONE, countHostLookup);
    }

    private CompletableFuture<Generation> submit(GenerationTask task, Sequence.Observer observer, TokenListener tokens, boolean countHostLookup) {
        try {
            admission.check(task);
        } catch (InvalidTaskException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (closed) return CompletableFuture.failedFuture(new IllegalStateException("the engine is closed"));
        Sequence s = new Sequence(task, observer, tokens);
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

    /**
     * Queues the tasks together, so that the batcher admits them in one step (a static batch: one
     * prefill pass for all of them); the futures in task order. Rows whose observer is
     * {@link LogitsObserver#NONE} bring no logits back, unless they sample and the pass leaves that to the host.
     */
    public List<CompletableFuture<Generation>> submitAll(List<GenerationTask> tasks, LogitsObserver observer, boolean countHostLookup) {
        List<CompletableFuture<Generation>> futures = new ArrayList<>(tasks.size());
        List<Sequence> ready = new ArrayList<>(tasks.size());
        for (int i = 0; i < tasks.size(); i++) {
            GenerationTask task = tasks.get(i);
            try {
                admission.check(task);
            } catch (InvalidTaskException e) {
                futures.add(CompletableFuture.failedFuture(e));
                continue;
            }
            int row = i;
            Sequence s = new Sequence(task, observer == LogitsObserver.NONE ? Sequence.Observer.NONE : (step, logits) -> observer.onLogits(row, step, logits));
            String id = task.adapterId();
            if (id != null && !cache.onDevice(id)) s.hostCopy = fetch(id, countHostLookup);
            ready.add(s);
            futures.add(s.result);
        }
        synchronized (queueLock) {
            for (Sequence s : ready) {
                if (closed) {
                    s.result.completeExceptionally(new IllegalStateException("the engine is closed"));
                    continue;
                }
                waiting.addLast(s);
                metrics.waitingChanged(s.adapterId(), 1);
            }
            signalLocked();
        }
        return futures;
    }

    private CompletableFuture<LoraAdapter> fetch(String id, boolean counted) {
        CompletableFuture<LoraAdapter> f = counted ? cache.fetch(id) : cache.prefetch(id);
        f.whenComplete((a, e) -> signal());
        return f;
    }

    /**
     * One iteration: admit, prefill the joiners, decode the rows that were running, retire the finished.
     *
     * @return whether a forward pass ran (false: nothing to run, or every waiting request waits for a load)
     */
    public boolean step() {
        stepLock.lock();
        try {
            if (closed) return false;
            List<Sequence> decoding = liveRows();
            List<Sequence> joiners = admit();
            boolean ran = false;
            if (!joiners.isEmpty()) {
                ran = true;
                try {
                    prefill(joiners);
                } catch (RuntimeException e) {
                    fail(joiners, new IllegalStateException("prefill failed: " + e.getMessage(), e));
                    joiners = List.of();
                }
            }
            if (!decoding.isEmpty()) {
                ran = true;
                try {
                    decode(decoding);
                } catch (RuntimeException e) {
                    fail(decoding, new IllegalStateException("decode step failed: " + e.getMessage(), e));
                    decoding = List.of();
                }
            }
            if (ran) {
                steps++;
                if (!stepListeners.isEmpty()) notifyStep(joiners, decoding);
            }
            for (Sequence s : decoding) retire(s);
            for (Sequence s : joiners) retire(s);
            if (ran) occupancy = occupancyNow(occupancy.generatedTokens() + joiners.size() + decoding.size());
            return ran;
        } finally {
            stepLock.unlock();
        }
    }

    private void notifyStep(List<Sequence> joiners, List<Sequence> decoding) {
        long end = System.nanoTime();
        List<String> prefilled = new ArrayList<>(joiners.size()), decoded = new ArrayList<>(decoding.size());
        for (Sequence s : joiners) prefilled.add(s.task.requestId());
        for (Sequence s : decoding) decoded.add(s.task.requestId());
        Step step = new Step(steps, end, prefilled, decoded);
        for (Consumer<Step> l : stepListeners) {
            try {
                l.accept(step);
            } catch (RuntimeException e) {
                log.warn("step listener failed: {}", e.toString());
            }
        }
    }

    /**
     * The batch after the last step, readable from any thread without waiting for a step: rows
     * running, tokens they hold in the KV cache, tokens generated since the batcher started.
     */
    public record Occupancy(int running, long kvTokens, long generatedTokens) {}

    public Occupancy occupancy() { return occupancy; }

    private Occupancy occupancyNow(long generated) {
        long kv = 0;
        int running = 0;
        for (int r = used.nextSetBit(0); r >= 0; r = used.nextSetBit(r + 1)) {
            running++;
            kv += rows[r].kvLength;
        }
        return new Occupancy(running, kv, generated);
    }

    /** Waiting requests that get a row and a device slot now, each given the lowest free row. */
    private List<Sequence> admit() {
        List<Sequence> joiners = new ArrayList<>();
        int room = rows.length - used.cardinality();
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
                s.row = used.nextClearBit(0);
                used.set(s.row);
                rows[s.row] = s;
                joiners.add(s);
            }
        }
        return joiners;
    }

    /** The joiners' prompts into their rows; each gets its first token. */
    private void prefill(List<Sequence> joiners) {
        List<ForwardPass.Prefill> in = new ArrayList<>(joiners.size());
        long promptTokens = 0;
        boolean withLogits = false;
        for (Sequence s : joiners) {
            in.add(new ForwardPass.Prefill(s.row, s.task.promptIds(), s.slot, s.sampling()));
            promptTokens += s.promptLength();
            withLogits |= s.observed();
        }
        ForwardPass.Output out = pass.prefill(in, withLogits);
        passes++;
        countSamples(in, out);
        forwardNanos += out.nanos();
        for (int i = 0; i < joiners.size(); i++) {
            Sequence s = joiners.get(i);
            s.prefillNs = out.nanos();
            s.computeNs += (double) out.nanos() * s.promptLength() / promptTokens;
            s.kvLength = s.promptLength();
            s.accept(out, i, eosIds);
        }
    }

    /** One token for every row that was running, each at its own position, attending to its own tokens only. */
    private void decode(List<Sequence> running) {
        List<ForwardPass.Decode> in = new ArrayList<>(running.size());
        boolean withLogits = false;
        for (Sequence s : running) {
            in.add(new ForwardPass.Decode(s.row, s.lastToken(), s.kvLength, s.slot, s.sampling()));
            withLogits |= s.observed();
        }
        ForwardPass.Output out = pass.decode(in, withLogits);
        passes++;
        countSamples(in, out);
        forwardNanos += out.nanos();
        for (int i = 0; i < running.size(); i++) {
            Sequence s = running.get(i);
            s.kvLength++;
            s.decodeNs += out.nanos();
            s.computeNs += (double) out.nanos() / running.size();
            s.accept(out, i, eosIds);
        }
    }

    private void countSamples(List<? extends ForwardPass.Row> in, ForwardPass.Output out) {
        for (int i = 0; i < in.size(); i++) {
            if (in.get(i).sampling() == null) continue;
            if (out.chosen()[i]) samplesOnDevice++;
            else samplesOnHost++;
        }
    }

    private List<Sequence> liveRows() {
        List<Sequence> live = new ArrayList<>();
        for (int r = used.nextSetBit(0); r >= 0; r = used.nextSetBit(r + 1)) live.add(rows[r]);
        return live;
    }

    /** Completes a finished (or cancelled) sequence and frees its row and slot; false when it keeps running. */
    private boolean retire(Sequence s) {
        if (!s.finished() && !s.result.isDone()) return false;
        release(s);
        if (s.finished()) s.result.complete(s.generation());
        return true;
    }

    private void release(Sequence s) {
        if (s.row >= 0 && rows[s.row] == s) {
            rows[s.row] = null;
            used.clear(s.row);
            try {
                pass.release(s.row);
            } catch (RuntimeException e) {
                log.warn("releasing row {} failed: {}", s.row, e.getMessage());
            }
        }
        s.row = -1;
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

    /**
     * Starts the batcher's own loop thread (idempotent) and waits until the forward pass has
     * warmed up on it (CUDA graphs captured).
     *
     * @throws IllegalStateException when the warm-up failed
     */
    public void start() {
        synchronized (this) {
            if (loop == null && !closed) loop = Thread.ofPlatform().daemon().name("lorastream-batcher").start(this::loop);
        }
        try {
            warm.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw new IllegalStateException("the forward pass could not warm up: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** Whether the loop thread runs (then every step runs on it). */
    public synchronized boolean looping() { return loop != null; }

    private void loop() {
        stepLock.lock();
        try {
            pass.warmUp();
            warm.complete(null);
        } catch (RuntimeException | Error e) {
            warm.completeExceptionally(e);
            return;
        } finally {
            stepLock.unlock();
        }
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
            ForwardPass.Housekeeping h = pass.housekeeping();
            return new Stats(passes, forwardNanos, h.count(), h.nanos(), samplesOnDevice, samplesOnHost);
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
            return used.cardinality();
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
        warm.complete(null);
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
        } finally {
            stepLock.unlock();
        }
    }
}
