package dev.lorastream.engine.sim;

import dev.lorastream.engine.ContributorShare;
import dev.lorastream.engine.EngineLoad;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.TokenListener;
import dev.lorastream.engine.ModelInfo;
import dev.lorastream.engine.scheduler.TaskValidator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * An {@link InferenceEngine} without a model: it schedules requests as the real engine does and
 * spends, in place of each forward pass and adapter load, the time a {@link CostModel} says it takes
 * on the GPU (times the configured time scale), so that the router, the Kafka workers and the broker
 * can be run at fleet scale on a small machine. Everything it reports says it is simulated: the
 * backbone's name starts with {@value SimConfig#LABEL_PREFIX}, the execution provider is
 * {@value #EXECUTION_PROVIDER}, {@link EngineLoad#simulated()} is true and every metric carries
 * {@code simulated="true"}.
 *
 * <p>As the real engine ({@code OnnxLoraEngine} and its {@code ContinuousBatcher}): one scheduler
 * thread; requests join and leave the running batch between passes; each step prefills the joiners in
 * one pass and decodes one token for every row that was running in another; at most
 * {@code maxRows} rows. Adapters live in three tiers: the device bank ({@code deviceSlots} slots; a
 * request runs only once its adapter holds one), the host tier ({@code hostSlots} adapters) and the
 * store (every id). A request whose adapter is not on the device waits, outside the batch, while it is
 * copied from host memory or loaded from the store (at most {@code storeLoaders} store loads at once)
 * and then copied; the other rows go on. A slot is taken from the least recently used adapter that no
 * running request uses; when every slot is held by running requests the request waits, and adapter
 * requests behind it wait too (first come, first served), as in the real scheduler. Requests on the
 * plain backbone never wait for adapters.
 *
 * <p>Tokens are pseudo-random ids in [{@value SimTokenizer#FIRST_WORD_ID}, vocab) derived from the
 * seed, the request id and the step only (the same whatever the batch); every request runs to its
 * max_new_tokens (finish reason "length"). {@link Generation}'s times are simulated milliseconds, before
 * the time scale. Thread-safe.
 */
public final class SimulatedEngine implements InferenceEngine {
    private static final Logger log = LoggerFactory.getLogger(SimulatedEngine.class);
    private static final AtomicInteger ENGINES = new AtomicInteger();
    /** How much of a late wake-up the next back-to-back pass makes up (so the simulated clock does not drift behind the wall clock). */
    private static final long MAX_CATCH_UP_NANOS = 2_000_000;

    public static final String EXECUTION_PROVIDER = "SIM";
    public static final String ADAPTER_VERSION = "sim-1";
    public static final String CONTRIBUTOR_PREFIX = "sim-contributor-";
    public static final String METRIC_PREFIX = "lorastream_sim_";
    static final String CLOSED = "engine is closed";

    private final SimConfig config;
    private final CostModel cost;
    private final ModelInfo info;
    private final TaskValidator validator;
    private final Set<String> adapterIds;
    private final Map<String, Adapter> adapters;
    private final long bankBytes;
    private final long kvCapacityTokens;
    private final List<Consumer<SimPass>> listeners = new CopyOnWriteArrayList<>();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    /** Guarded by lock. */
    private final ArrayDeque<Request> waiting = new ArrayDeque<>();
    private final List<Request> running = new ArrayList<>();
    /** Adapters holding a bank slot (being copied in or there), least recently used first. */
    private final LinkedHashMap<String, Adapter> deviceTier = new LinkedHashMap<>(16, 0.75f, true);
    /** Adapters in host memory, least recently used first. */
    private final LinkedHashMap<String, Adapter> hostTier = new LinkedHashMap<>(16, 0.75f, true);
    private final List<Adapter> deviceCopies = new ArrayList<>();
    private final ArrayDeque<Adapter> storeQueue = new ArrayDeque<>();
    private final List<Adapter> storeLoads = new ArrayList<>();
    private long passNumber, prefillPasses, decodePasses, generatedTokens, promptTokens, completed;
    private long deviceHits, deviceMisses, hostHits, hostMisses, copiesToDevice, loadsFromStore, deviceEvictions, hostEvictions;
    private double simulatedMs;

    private volatile boolean closed;
    /** Scheduler thread only. */
    private long lastDeadline;
    private final Thread thread;

    /**
     * Opens the engine: the first {@code hostSlots} adapters in host memory, the device bank empty, the scheduler thread started.
     *
     * @throws IllegalArgumentException when the backbone, the bank and the KV cache do not fit the cost model's device memory
     */
    public SimulatedEngine(SimConfig config) {
        this.config = config;
        this.cost = config.cost();
        this.info = new ModelInfo(config.baseModel(), config.maxSequenceLength(), config.vocabSize(), SimTokenizer.EOS, EXECUTION_PROVIDER);
        this.bankBytes = cost.bankBytes(config.deviceSlots());
        this.kvCapacityTokens = (long) config.maxRows() * config.maxSequenceLength();
        long kvBytes = Math.multiplyExact(kvCapacityTokens, cost.kvBytesPerToken());
        long needed = cost.backboneWeightBytes() + bankBytes + kvBytes;
        if (needed > cost.deviceMemoryBytes()) {
            throw new IllegalArgumentException("the simulated device's " + cost.deviceMemoryBytes() + " bytes (cost model " + cost.name() + ") cannot hold the backbone ("
                    + cost.backboneWeightBytes() + " B), the bank of deviceSlots + 1 = " + (config.deviceSlots() + 1) + " slots (" + bankBytes
                    + " B) and the KV cache of maxRows x maxSequenceLength = " + kvCapacityTokens + " tokens (" + kvBytes + " B)");
        }
        this.validator = new TaskValidator(config.vocabSize(), config.maxSequenceLength(), config.effectiveMaxNewTokensLimit(), this::checkAdapter);
        Map<String, Adapter> byId = new HashMap<>(config.adapterIds().size() * 2);
        for (String id : config.adapterIds()) byId.put(id, new Adapter(id));
        this.adapters = Collections.unmodifiableMap(byId);
        this.adapterIds = Collections.unmodifiableSet(new TreeSet<>(config.adapterIds()));
        for (String id : config.adapterIds()) {
            if (hostTier.size() >= config.hostSlots()) break;
            hostTier.put(id, byId.get(id));
        }
        int n = ENGINES.incrementAndGet();
        log.info("SIMULATED engine {} open: {} (cost model {}, time scale {}), {} adapters, {} in host memory, device bank {} slots, {} rows per pass; "
                        + "no model runs: passes and loads take the cost model's time", n, config.baseModel(), cost.name(), config.timeScale(),
                adapterIds.size(), hostTier.size(), config.deviceSlots(), config.maxRows());
        this.thread = Thread.ofPlatform().daemon().name("lorastream-sim-engine-" + n).unstarted(this::loop);
        thread.start();
    }

    public SimConfig config() { return config; }

    /** Calls the listener on the scheduler thread after each pass, before the futures of the requests it finished complete (keep it short). */
    public void addPassListener(Consumer<SimPass> listener) { listeners.add(listener); }

    public void removePassListener(Consumer<SimPass> listener) { listeners.remove(listener); }

    /** The scheduler thread (tests). */
    Thread schedulerThread() { return thread; }

    // ---------------------------------------------------------------- InferenceEngine

    @Override
    public ModelInfo model() { return info; }

    @Override
    public Set<String> adapterIds() { return adapterIds; }

    @Override
    public List<ContributorShare> contributors(String adapterId) {
        if (adapterId == null) return List.of();
        known(adapterId);
        return List.of(new ContributorShare(CONTRIBUTOR_PREFIX + adapterId, 1.0));
    }

    @Override
    public String adapterVersion(String adapterId) {
        if (adapterId != null) known(adapterId);
        return ADAPTER_VERSION;
    }

    private void known(String id) {
        if (!adapters.containsKey(id)) throw new IllegalArgumentException("adapter '" + id + "' is not in the adapter store (" + storeName() + ")");
    }

    private String storeName() { return "simulated store of " + adapterIds.size() + " adapters"; }

    @Override
    public int[] encode(String text) { return SimTokenizer.encode(text); }

    @Override
    public String decode(int[] tokenIds) { return SimTokenizer.decode(tokenIds); }

    @Override
    public void validate(GenerationTask task) throws InvalidTaskException {
        if (closed) throw new IllegalStateException(CLOSED);
        validator.validate(task);
        // it has no logits: what needs them is refused rather than answered with made-up numbers
        if (task.logprobs() >= 0) throw new InvalidTaskException(TaskValidator.BAD_PARAMETER, "params.logprobs", "the simulated engine has no logits to give log-probabilities of");
        if (task.penalised()) {
            throw new InvalidTaskException(TaskValidator.BAD_PARAMETER, task.presencePenalty() != 0f ? "params.presence_penalty" : "params.frequency_penalty",
                    "the simulated engine has no logits to penalise");
        }
    }

    private void checkAdapter(String id) throws InvalidTaskException {
        if (!adapters.containsKey(id)) {
            throw new InvalidTaskException(TaskValidator.UNKNOWN_ADAPTER, "adapter_id", "adapter '" + id + "' is not in the adapter store (" + storeName() + ")");
        }
    }

    /**
     * Validates every task, queues them together (so that they join in one step: one prefill pass, up to
     * maxRows rows) and waits for them.
     *
     * @throws IllegalArgumentException when a task does not pass {@link #validate} (code, field and reason in the message)
     * @throws IllegalStateException    when the engine is or gets closed
     */
    @Override
    public List<Generation> generate(List<GenerationTask> batch) {
        if (closed) throw new IllegalStateException(CLOSED);
        if (batch.isEmpty()) return List.of();
        List<Request> requests = new ArrayList<>(batch.size());
        for (GenerationTask t : batch) {
            try {
                validate(t);
            } catch (InvalidTaskException e) {
                throw new IllegalArgumentException("task " + t.requestId() + ": " + e.code() + " " + e.field() + ": " + e.getMessage(), e);
            }
            requests.add(new Request(t));
        }
        enqueue(requests);
        List<Generation> out = new ArrayList<>(batch.size());
        for (Request r : requests) {
            try {
                out.add(r.result.join());
            } catch (CompletionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof IllegalStateException ise) throw new IllegalStateException(ise.getMessage(), ise);
                throw new IllegalStateException("task " + r.task.requestId() + " failed: " + cause.getMessage(), cause);
            }
        }
        return out;
    }

    /** Validates and queues one task to join the running batch; the future fails with the {@link InvalidTaskException} when it does not pass. */
    @Override
    public CompletableFuture<Generation> submit(GenerationTask task) {
        return submit(task, TokenListener.NONE);
    }

    /** Tokens are told as each simulated pass takes them, on the scheduler's thread. */
    @Override
    public CompletableFuture<Generation> submit(GenerationTask task, TokenListener tokens) {
        if (closed) return CompletableFuture.failedFuture(new IllegalStateException(CLOSED));
        try {
            validate(task);
        } catch (InvalidTaskException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        Request r = new Request(task);
        r.tokens = tokens;
        enqueue(List.of(r));
        return r.result;
    }

    private void enqueue(List<Request> requests) {
        lock.lock();
        try {
            if (!closed) {
                waiting.addAll(requests);
                work.signalAll();
                return;
            }
        } finally {
            lock.unlock();
        }
        for (Request r : requests) r.result.completeExceptionally(new IllegalStateException(CLOSED));
    }

    @Override
    public Set<String> residentAdapterIds() {
        lock.lock();
        try {
            Set<String> ids = new TreeSet<>(deviceTier.keySet());
            ids.addAll(hostTier.keySet());
            return Collections.unmodifiableSet(ids);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Memory: the cost model's device total; free = total − backbone weights − the whole bank (slots + 1, allocated at
     * open) − KV bytes of the tokens the running rows hold. Device adapters: those holding a slot (including one being
     * copied in), so {@code bankSlotsUsed == deviceAdapters.size()}.
     */
    @Override
    public EngineLoad load() {
        lock.lock();
        try {
            long kvUsed = kvTokensUsed();
            long free = cost.deviceMemoryBytes() - cost.backboneWeightBytes() - bankBytes - kvUsed * cost.kvBytesPerToken();
            return new EngineLoad(cost.deviceMemoryBytes(), Math.max(0, free), config.deviceSlots(), deviceTier.size(), config.maxRows(), running.size(),
                    waiting.size(), kvCapacityTokens, kvUsed, generatedTokens, new TreeSet<>(deviceTier.keySet()), new TreeSet<>(hostTier.keySet()), true);
        } finally {
            lock.unlock();
        }
    }

    private long kvTokensUsed() {
        long t = 0;
        for (Request r : running) t += r.task.promptIds().length + r.count;
        return t;
    }

    /**
     * Counters since open.
     *
     * @param simulatedMs  simulated time of every pass (before the time scale)
     * @param deviceHits   requests that found their adapter in a bank slot; deviceMisses those that did not
     * @param hostHits     device misses that found the adapter in host memory; hostMisses those that needed a store load
     * @param copiesToDevice adapters copied from host memory into a slot; loadsFromStore adapters loaded from the store into host memory
     */
    public record Stats(long passes, long prefillPasses, long decodePasses, double simulatedMs, long generatedTokens, long promptTokens, long completed,
                        long deviceHits, long deviceMisses, long hostHits, long hostMisses, long copiesToDevice, long loadsFromStore,
                        long deviceEvictions, long hostEvictions) {}

    /** Its simulated prefill and decode passes. */
    @Override
    public long forwardPasses() { return stats().passes(); }

    public Stats stats() {
        lock.lock();
        try {
            return new Stats(passNumber, prefillPasses, decodePasses, simulatedMs, generatedTokens, promptTokens, completed, deviceHits, deviceMisses,
                    hostHits, hostMisses, copiesToDevice, loadsFromStore, deviceEvictions, hostEvictions);
        } finally {
            lock.unlock();
        }
    }

    /** Metrics in the Prometheus text format (0.0.4), every sample labelled {@code simulated="true"}. */
    @Override
    public String prometheusText() {
        Stats s;
        EngineLoad l;
        lock.lock();
        try {
            s = stats();
            l = load();
        } finally {
            lock.unlock();
        }
        StringBuilder sb = new StringBuilder(2048);
        String sim = "simulated=\"true\"";
        family(sb, "info", "gauge", "A simulated engine (no model runs): its backbone's label, cost model and time scale.");
        sample(sb, "info", sim + ",base_model=\"" + escape(config.baseModel()) + "\",cost_model=\"" + escape(cost.name()) + "\",time_scale=\""
                + config.timeScale() + "\"", 1);
        family(sb, "forward_passes_total", "counter", "Simulated forward passes.");
        sample(sb, "forward_passes_total", sim + ",kind=\"prefill\"", s.prefillPasses());
        sample(sb, "forward_passes_total", sim + ",kind=\"decode\"", s.decodePasses());
        family(sb, "forward_seconds_total", "counter", "Simulated time of the forward passes (before the time scale).");
        sample(sb, "forward_seconds_total", sim, s.simulatedMs() / 1000.0);
        family(sb, "generated_tokens_total", "counter", "Tokens generated.");
        sample(sb, "generated_tokens_total", sim, s.generatedTokens());
        family(sb, "prompt_tokens_total", "counter", "Prompt tokens prefilled.");
        sample(sb, "prompt_tokens_total", sim, s.promptTokens());
        family(sb, "requests_completed_total", "counter", "Requests that ran to their end.");
        sample(sb, "requests_completed_total", sim, s.completed());
        family(sb, "requests_running", "gauge", "Requests in the running batch.");
        sample(sb, "requests_running", sim, l.running());
        family(sb, "requests_waiting", "gauge", "Requests waiting to join it.");
        sample(sb, "requests_waiting", sim, l.waiting());
        family(sb, "adapter_loads_total", "counter", "Adapters loaded into a tier: device (copied from host memory), host (loaded from the store).");
        sample(sb, "adapter_loads_total", sim + ",tier=\"device\"", s.copiesToDevice());
        sample(sb, "adapter_loads_total", sim + ",tier=\"host\"", s.loadsFromStore());
        family(sb, "adapter_evictions_total", "counter", "Adapters evicted from a tier.");
        sample(sb, "adapter_evictions_total", sim + ",tier=\"device\"", s.deviceEvictions());
        sample(sb, "adapter_evictions_total", sim + ",tier=\"host\"", s.hostEvictions());
        family(sb, "adapter_hits_total", "counter", "Requests that found their adapter in the tier.");
        sample(sb, "adapter_hits_total", sim + ",tier=\"device\"", s.deviceHits());
        sample(sb, "adapter_hits_total", sim + ",tier=\"host\"", s.hostHits());
        family(sb, "adapter_misses_total", "counter", "Requests that did not find their adapter in the tier.");
        sample(sb, "adapter_misses_total", sim + ",tier=\"device\"", s.deviceMisses());
        sample(sb, "adapter_misses_total", sim + ",tier=\"host\"", s.hostMisses());
        family(sb, "bank_slots_used", "gauge", "Device bank slots holding an adapter.");
        sample(sb, "bank_slots_used", sim, l.bankSlotsUsed());
        family(sb, "device_memory_free_bytes", "gauge", "Simulated device memory free.");
        sample(sb, "device_memory_free_bytes", sim, l.memoryFreeBytes());
        return sb.toString();
    }

    private static void family(StringBuilder sb, String name, String type, String help) {
        sb.append("# HELP ").append(METRIC_PREFIX).append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(METRIC_PREFIX).append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder sb, String name, String labels, double value) {
        sb.append(METRIC_PREFIX).append(name).append('{').append(labels).append("} ");
        if (value == Math.rint(value) && Math.abs(value) < 1e15) sb.append((long) value);
        else sb.append(String.format(Locale.ROOT, "%.6f", value));
        sb.append('\n');
    }

    private static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** Stops the scheduler thread and fails every request still waiting or running with {@code IllegalStateException("engine is closed")}. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            work.signalAll();
        } finally {
            lock.unlock();
        }
        LockSupport.unpark(thread);
        if (Thread.currentThread() != thread) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<Request> left = new ArrayList<>();
        lock.lock();
        try {
            left.addAll(running);
            left.addAll(waiting);
            running.clear();
            waiting.clear();
        } finally {
            lock.unlock();
        }
        IllegalStateException closedError = new IllegalStateException(CLOSED);
        for (Request r : left) r.result.completeExceptionally(closedError);
        log.info("SIMULATED engine {} closed ({} requests failed as closed)", thread.getName(), left.size());
    }

    // ---------------------------------------------------------------- the scheduler

    private static final class Request {
        final GenerationTask task;
        final CompletableFuture<Generation> result = new CompletableFuture<>();
        final int[] out;
        int count;
        double prefillMs, decodeMs, computeMs;
        boolean deviceCounted, hostCounted, holdsAdapter;
        TokenListener tokens = TokenListener.NONE;
        boolean stopped;

        Request(GenerationTask task) {
            this.task = task;
            this.out = new int[task.maxNewTokens()];
        }

        boolean finished() { return stopped || count >= out.length; }

        Generation generation() {
            return new Generation(task.requestId(), Arrays.copyOf(out, count), stopped ? "stop" : "length", Math.round(prefillMs), Math.round(decodeMs),
                    computeMs);
        }
    }

    /** One adapter's place in the tiers; guarded by lock. */
    private static final class Adapter {
        final String id;
        /** Holds a slot; being copied in until deviceReadyAt while copying. */
        boolean onDevice, copying;
        long deviceReadyAt;
        /** Running requests using its slot. */
        int inUse;
        boolean storeQueued, storeLoading;
        long storeQueuedAt, storeReadyAt;
        /** A store load finished for waiting requests: it may go to the device even if the host tier has dropped it since. */
        boolean fetched;

        Adapter(String id) { this.id = id; }
    }

    private enum Placement { READY, WAIT, DEVICE_FULL }

    private record Step(List<Request> joiners, List<Request> decoding, long promptTokens, double prefillMs, double decodeMs,
                        int prefillAdapters, int decodeAdapters, boolean backToBack) {
        double ms() { return prefillMs + decodeMs; }
    }

    private void loop() {
        try {
            while (true) {
                Step step = nextStep();
                if (step == null) return;
                sleep(Math.round(step.ms() * config.timeScale() * 1e6), step.backToBack());
                if (closed) return;
                finish(step);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            log.error("SIMULATED engine {}: the scheduler failed; closing", thread.getName(), e);
            close();
        }
    }

    /** Waits until a step can run (joiners or running rows); null when closed. */
    private Step nextStep() throws InterruptedException {
        lock.lock();
        try {
            boolean waited = false;
            while (!closed) {
                long now = System.nanoTime();
                finishLoads(now);
                Step s = plan(now, !waited);
                if (s != null) return s;
                long wake = nextLoadDeadline();
                waited = true;
                if (wake == Long.MAX_VALUE) work.await();
                else work.awaitNanos(Math.max(1, wake - now));
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** Sleeps the pass's (scaled) time; a back-to-back pass makes up for up to {@link #MAX_CATCH_UP_NANOS} of the last wake-up's lateness. */
    private void sleep(long nanos, boolean backToBack) {
        long now = System.nanoTime();
        long base = backToBack && lastDeadline != 0 ? Math.min(now, Math.max(lastDeadline, now - MAX_CATCH_UP_NANOS)) : now;
        long deadline = base + nanos;
        lastDeadline = deadline;
        while (!closed) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return;
            LockSupport.parkNanos(this, left);
        }
    }

    /** The next step: admits joiners, takes the rows that were running; null when there is nothing to run. Under lock. */
    private Step plan(long now, boolean backToBack) {
        List<Request> decoding = new ArrayList<>(running);
        List<Request> joiners = admit(now);
        if (decoding.isEmpty() && joiners.isEmpty()) return null;
        long tokens = 0;
        for (Request r : joiners) tokens += r.task.promptIds().length;
        int decodeAdapters = distinctAdapters(decoding);
        double prefill = joiners.isEmpty() ? 0 : cost.prefillMs(tokens);
        double decode = decoding.isEmpty() ? 0 : cost.decodeMs(decoding.size(), decodeAdapters);
        running.addAll(joiners);
        return new Step(joiners, decoding, tokens, prefill, decode, distinctAdapters(joiners), decodeAdapters, backToBack);
    }

    private static int distinctAdapters(List<Request> rows) {
        Set<String> ids = new HashSet<>();
        for (Request r : rows) if (r.task.adapterId() != null) ids.add(r.task.adapterId());
        return ids.size();
    }

    /** First come, first served: waiting requests that get a row and whose adapter is on the device now. Under lock. */
    private List<Request> admit(long now) {
        List<Request> joiners = new ArrayList<>();
        int room = config.maxRows() - running.size();
        boolean blocked = false;
        for (Iterator<Request> it = waiting.iterator(); it.hasNext() && joiners.size() < room; ) {
            Request r = it.next();
            if (r.result.isDone()) {
                it.remove();
                continue;
            }
            String id = r.task.adapterId();
            if (id != null) {
                if (blocked) continue;
                Adapter a = adapters.get(id);
                Placement p = place(a, r, now);
                if (p == Placement.DEVICE_FULL) blocked = true;
                if (p != Placement.READY) continue;
                a.inUse++;
                r.holdsAdapter = true;
                deviceTier.get(id);
            }
            it.remove();
            joiners.add(r);
        }
        return joiners;
    }

    /** Where the request's adapter stands; starts its copy or its store load when it needs one. Under lock. */
    private Placement place(Adapter a, Request r, long now) {
        if (a.onDevice && !a.copying) {
            if (!r.deviceCounted) {
                r.deviceCounted = true;
                deviceHits++;
            }
            return Placement.READY;
        }
        if (!r.deviceCounted) {
            r.deviceCounted = true;
            deviceMisses++;
        }
        if (a.onDevice) return Placement.WAIT;
        boolean inHost = hostTier.containsKey(a.id);
        if (inHost || a.fetched) {
            if (!r.hostCounted) {
                r.hostCounted = true;
                hostHits++;
            }
            if (!takeSlot()) return Placement.DEVICE_FULL;
            a.onDevice = true;
            a.copying = true;
            a.fetched = false;
            a.deviceReadyAt = now + scaled(cost.hostToDeviceMs());
            deviceTier.put(a.id, a);
            deviceCopies.add(a);
            copiesToDevice++;
            if (inHost) hostTier.get(a.id);
            return Placement.WAIT;
        }
        if (!r.hostCounted) {
            r.hostCounted = true;
            hostMisses++;
        }
        if (!a.storeQueued && !a.storeLoading) {
            a.storeQueued = true;
            a.storeQueuedAt = now;
            storeQueue.addLast(a);
            startStoreLoads(now);
        }
        return Placement.WAIT;
    }

    /** A free slot, or the slot of the least recently used adapter that no running request uses and that is not being copied in. */
    private boolean takeSlot() {
        if (deviceTier.size() < config.deviceSlots()) return true;
        Adapter victim = null;
        for (Adapter v : deviceTier.values()) {
            if (v.inUse == 0 && !v.copying) {
                victim = v;
                break;
            }
        }
        if (victim == null) return false;
        deviceTier.remove(victim.id);
        victim.onDevice = false;
        deviceEvictions++;
        return true;
    }

    private void startStoreLoads(long freedAt) {
        while (storeLoads.size() < config.storeLoaders() && !storeQueue.isEmpty()) {
            Adapter a = storeQueue.pollFirst();
            a.storeQueued = false;
            a.storeLoading = true;
            a.storeReadyAt = Math.max(a.storeQueuedAt, freedAt) + scaled(cost.storeToHostMs());
            storeLoads.add(a);
        }
    }

    /** Completes the store loads and device copies due by {@code now}, in order; a finished store load frees its loader for the next. */
    private void finishLoads(long now) {
        while (true) {
            Adapter next = null;
            for (Adapter a : storeLoads) if (a.storeReadyAt <= now && (next == null || a.storeReadyAt < next.storeReadyAt)) next = a;
            if (next == null) break;
            storeLoads.remove(next);
            next.storeLoading = false;
            next.fetched = true;
            loadsFromStore++;
            if (!hostTier.containsKey(next.id)) {
                if (hostTier.size() >= config.hostSlots()) {
                    Iterator<Adapter> eldest = hostTier.values().iterator();
                    eldest.next();
                    eldest.remove();
                    hostEvictions++;
                }
                hostTier.put(next.id, next);
            }
            startStoreLoads(next.storeReadyAt);
        }
        for (Iterator<Adapter> it = deviceCopies.iterator(); it.hasNext(); ) {
            Adapter a = it.next();
            if (a.deviceReadyAt <= now) {
                a.copying = false;
                it.remove();
            }
        }
    }

    private long nextLoadDeadline() {
        long t = Long.MAX_VALUE;
        for (Adapter a : storeLoads) t = Math.min(t, a.storeReadyAt);
        for (Adapter a : deviceCopies) t = Math.min(t, a.deviceReadyAt);
        return t;
    }

    private long scaled(double ms) {
        return Math.round(ms * config.timeScale() * 1e6);
    }

    /** After the pass: each row's token and times, finished rows retired (their slot released), then the listeners, then the finished rows' futures. */
    private void finish(Step step) {
        List<Request> done = new ArrayList<>();
        List<SimPass> passes = new ArrayList<>(2);
        lock.lock();
        try {
            boolean report = !listeners.isEmpty();
            if (!step.joiners().isEmpty()) {
                for (Request r : step.joiners()) {
                    r.prefillMs = step.prefillMs();
                    r.computeMs += step.prefillMs() * r.task.promptIds().length / step.promptTokens();
                    take(r);
                }
                if (report) passes.add(new SimPass(passNumber, SimPass.Kind.PREFILL, ids(step.joiners()), step.prefillAdapters(), step.promptTokens(), step.prefillMs()));
                passNumber++;
                prefillPasses++;
                promptTokens += step.promptTokens();
            }
            if (!step.decoding().isEmpty()) {
                for (Request r : step.decoding()) {
                    r.decodeMs += step.decodeMs();
                    r.computeMs += step.decodeMs() / step.decoding().size();
                    take(r);
                }
                if (report) passes.add(new SimPass(passNumber, SimPass.Kind.DECODE, ids(step.decoding()), step.decodeAdapters(), 0, step.decodeMs()));
                passNumber++;
                decodePasses++;
            }
            simulatedMs += step.ms();
            for (Iterator<Request> it = running.iterator(); it.hasNext(); ) {
                Request r = it.next();
                if (!r.finished() && !r.result.isDone()) continue;
                it.remove();
                if (r.holdsAdapter) {
                    r.holdsAdapter = false;
                    Adapter a = adapters.get(r.task.adapterId());
                    a.inUse--;
                    deviceTier.get(a.id);
                }
                if (r.finished()) {
                    completed++;
                    done.add(r);
                }
            }
        } finally {
            lock.unlock();
        }
        for (SimPass p : passes) {
            for (Consumer<SimPass> l : listeners) {
                try {
                    l.accept(p);
                } catch (RuntimeException e) {
                    log.warn("pass listener failed: {}", e.toString());
                }
            }
        }
        for (Request r : done) r.result.complete(r.generation());
    }

    private void take(Request r) {
        if (r.finished()) return;
        r.out[r.count] = token(config.seed(), r.task.requestId(), r.count, config.vocabSize());
        r.count++;
        generatedTokens++;
        if (r.tokens != TokenListener.NONE) {
            try {
                r.tokens.onToken(r.count - 1, r.out[r.count - 1]);
                if (r.tokens.stopHere()) r.stopped = true;
            } catch (RuntimeException e) {
                r.tokens = TokenListener.NONE;
            }
        }
    }

    private static List<String> ids(List<Request> rows) {
        List<String> ids = new ArrayList<>(rows.size());
        for (Request r : rows) ids.add(r.task.requestId());
        return ids;
    }

    /** The token of a request at a step: a pseudo-random id in [FIRST_WORD_ID, vocab) of the seed, the request id and the step only. */
    static int token(long seed, String requestId, int step, int vocabSize) {
        long h = 0xcbf29ce484222325L;
        for (byte b : requestId.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        long x = mix(mix(h ^ seed) + 0x9E3779B97F4A7C15L * (step + 1L));
        return SimTokenizer.FIRST_WORD_ID + (int) Math.floorMod(x, (long) (vocabSize - SimTokenizer.FIRST_WORD_ID));
    }

    /** SplitMix64's finalizer. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return "SimulatedEngine[" + config.baseModel() + ", cost model " + cost.name() + ", time scale " + config.timeScale() + "]";
    }
}
