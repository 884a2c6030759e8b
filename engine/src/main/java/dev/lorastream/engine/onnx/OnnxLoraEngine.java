package dev.lorastream.engine.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.lorastream.engine.ContributorShare;
import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.EngineLoad;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.TokenListener;
import dev.lorastream.engine.ModelInfo;
import dev.lorastream.engine.adapters.AdapterBank;
import dev.lorastream.engine.adapters.AdapterConfig;
import dev.lorastream.engine.adapters.AdapterDescriptor;
import dev.lorastream.engine.adapters.AdapterLoader;
import dev.lorastream.engine.adapters.AdapterStore;
import dev.lorastream.engine.adapters.AdapterValidationException;
import dev.lorastream.engine.adapters.FileAdapterStore;
import dev.lorastream.engine.adapters.LoraAdapter;
import dev.lorastream.engine.adapters.cache.AdapterCache;
import dev.lorastream.engine.adapters.cache.AdapterLoadException;
import dev.lorastream.engine.adapters.cache.AdapterMetrics;
import dev.lorastream.engine.adapters.cache.AdapterStatus;
import dev.lorastream.engine.adapters.cache.CacheConfig;
import dev.lorastream.engine.graph.BankLayout;
import dev.lorastream.engine.graph.GraphCache;
import dev.lorastream.engine.graph.GraphSpec;
import dev.lorastream.engine.graph.GreedyHead;
import dev.lorastream.engine.graph.OnnxModelWriter;
import dev.lorastream.engine.graph.Precision;
import dev.lorastream.engine.graph.SamplingHead;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.model.tokenizer.Tokenizer;
import dev.lorastream.engine.model.tokenizer.Tokenizers;
import dev.lorastream.engine.runtime.Cuda;
import dev.lorastream.engine.runtime.DecoderSession;
import dev.lorastream.engine.runtime.ExecutionProvider;
import dev.lorastream.engine.runtime.ForwardPass;
import dev.lorastream.engine.runtime.FusedForwardPass;
import dev.lorastream.engine.runtime.ReferenceForwardPass;
import dev.lorastream.engine.scheduler.ContinuousBatcher;
import dev.lorastream.engine.scheduler.LogitsObserver;
import dev.lorastream.engine.scheduler.TaskValidator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The worker's engine on ONNX Runtime: one resident session of the decoder graph built from a
 * Hugging Face backbone, a tiered adapter cache in front of the adapter directory (device slots
 * of one LoRA bank, host memory), and a continuous batcher whose rows use different adapters in
 * shared forward passes. Thread-safe: {@link #validate} and {@link #submit} from any thread;
 * {@link #generate} drives the batcher on the calling thread unless its loop runs.
 */
public final class OnnxLoraEngine implements InferenceEngine {
    private static final Logger log = LoggerFactory.getLogger(OnnxLoraEngine.class);

    private final EngineConfig config;
    private final ModelConfig model;
    private final ModelInfo info;
    private final Tokenizer tokenizer;
    private final String backboneHash;
    private final Path graphPath;
    private final DecoderSession session;
    private final AdapterStore store;
    private final AdapterLoader loader;
    private final AdapterBank bank;
    private final AdapterMetrics metrics = new AdapterMetrics();
    private final ExecutorService loads;
    private final AdapterCache cache;
    private final TaskValidator validator;
    private final ContinuousBatcher batcher;
    private final ForwardPass pass;
    private final GraphChoice choice;
    private final Map<String, AdapterDescriptor> descriptors = new ConcurrentHashMap<>();
    private Set<String> scannedIds = Set.of();
    private volatile boolean closed;

    private OnnxLoraEngine(EngineConfig config, CacheConfig cacheConfig, CacheConfig.Capacities capacities, ModelConfig model, Tokenizer tokenizer,
                           String backboneHash, Path graphPath, DecoderSession session, AdapterBank bank, ExecutionProvider provider,
                           AdapterStore store, GraphChoice choice) {
        this.config = config;
        this.choice = choice;
        this.model = model;
        this.tokenizer = tokenizer;
        this.backboneHash = backboneHash;
        this.graphPath = graphPath;
        this.session = session;
        this.bank = bank;
        // config.json's ids first, then every stop id generation_config.json adds (e.g. an instruct model's end of turn)
        Set<Integer> eos = new LinkedHashSet<>(model.eosTokenIds());
        eos.addAll(tokenizer.eosIds());
        eos.removeIf(id -> id < 0 || id >= model.vocabSize());
        Set<Integer> eosIds = Collections.unmodifiableSet(eos);
        this.info = new ModelInfo(model.name(), model.maxSequenceLength(), model.vocabSize(), eos.isEmpty() ? -1 : eos.iterator().next(), provider.name());
        this.store = store;
        this.loader = AdapterLoader.forBackbone(model, config.modelDir(), config.maxLoraRank());
        this.loads = Executors.newFixedThreadPool(Math.min(2, Runtime.getRuntime().availableProcessors()), daemonThreads("lorastream-adapter-loader"));
        this.cache = new AdapterCache(capacities, cacheConfig, this::loadFromStore, bank::write, loads, metrics);
        this.pass = choice.fused()
                ? new FusedForwardPass(session, bank::inputs, config.maxBatchSize(), choice.capacity(), tokenizer.padId(), session.cudaGraphs(),
                        SamplingHead.candidates(SamplingHead.configured(), model.vocabSize()))
                : new ReferenceForwardPass(session, bank::inputs, config.maxBatchSize(), choice.capacity(), tokenizer.padId());
        int limit = config.maxNewTokensLimit() > 0 ? config.maxNewTokensLimit() : choice.capacity();
        this.validator = new TaskValidator(model.vocabSize(), choice.capacity(), limit, this::checkAdapter);
        this.batcher = new ContinuousBatcher(pass, cache, metrics, validator::validate, eosIds);
    }

    public static OnnxLoraEngine open(EngineConfig config) {
        return open(config, CacheConfig.DEFAULT);
    }

    /** {@link #open(EngineConfig, CacheConfig, AdapterStore)} on the directory store of {@code config.adapterDir()}. */
    public static OnnxLoraEngine open(EngineConfig config, CacheConfig cacheConfig) {
        if (config.adapterDir() != null && !Files.isDirectory(config.adapterDir())) {
            throw new IllegalArgumentException("adapter directory " + config.adapterDir() + " does not exist or is not a directory");
        }
        return open(config, cacheConfig, new FileAdapterStore(config.adapterDir()));
    }

    /**
     * Chooses the decoder graph (fused where the model, provider and precision allow, said at
     * start-up), builds it (or finds it cached), opens its session, sizes the LoRA bank once from
     * the configuration and the store's adapters, captures the decode CUDA graphs (CUDA, fused),
     * sizes the adapter cache and loads adapters into host memory while it has room.
     *
     * @throws IllegalArgumentException naming the keys when the settings contradict each other or the backbone
     */
    public static OnnxLoraEngine open(EngineConfig config, CacheConfig cacheConfig, AdapterStore store) {
        ExecutionProvider provider = ExecutionProvider.parse(config.executionProvider());
        provider.checkAvailable();
        long t0 = System.nanoTime();
        ModelConfig model = ModelConfig.read(config.modelDir());
        Precision precision = Precision.parse(config.precision());
        // tiers are counted in float32 bytes (host copies are float32); an fp16 bank takes half of its device bytes
        CacheConfig.Capacities capacities = cacheConfig.resolve(AdapterBank.slotBytes(model, config.maxLoraRank()), config.maxLoraRank());
        Tokenizer tokenizer = Tokenizers.forModel(config.modelDir(), model);
        String hash = GraphCache.contentHash(config.modelDir());
        BankLayout layout = bankLayout(store, model, config, capacities.deviceSlots() + 1, precision);
        GraphChoice choice = GraphChoice.of(config, model, provider, precision);
        log.info("Decoder graph: {}", choice.reason());
        GraphSpec spec = new GraphSpec(choice.fused() ? GraphSpec.Kind.FUSED : GraphSpec.Kind.REFERENCE, precision, layout.groups(), choice.capacity(),
                GreedyHead.configured());
        Path graph = new GraphCache(cacheDir(config), OnnxModelWriter.DEFAULT_INLINE_LIMIT).ensure(config.modelDir(), model, hash, spec);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        DecoderSession session;
        try {
            session = openSession(env, graph, model, provider, config, precision, choice);
        } catch (OrtException | RuntimeException e) {
            if (!choice.cudaGraphs()) throw new IllegalStateException("ONNX Runtime could not load the decoder graph " + graph + ": " + e.getMessage(), e);
            log.warn("ONNX Runtime refused CUDA graphs for {} ({}); opening it without them", graph, e.getMessage());
            choice = choice.withoutCudaGraphs(e.getMessage());
            try {
                session = openSession(env, graph, model, provider, config, precision, choice);
            } catch (OrtException again) {
                throw new IllegalStateException("ONNX Runtime could not load the decoder graph " + graph + ": " + again.getMessage(), again);
            }
        }
        AdapterBank bank;
        try {
            bank = AdapterBank.allocate(session.memory(), model, layout);
        } catch (RuntimeException e) {
            session.close();
            throw new IllegalStateException("cannot allocate the LoRA bank of " + capacities.deviceSlots() + " slots: " + e.getMessage(), e);
        }
        OnnxLoraEngine engine;
        try {
            engine = new OnnxLoraEngine(config, cacheConfig, capacities, model, tokenizer, hash, graph, session, bank, provider, store, choice);
        } catch (RuntimeException e) {
            bank.close();
            session.close();
            throw e;
        }
        try {
            // a thread-bound pass (CUDA graphs) warms up on the batcher's own thread, before any adapter load touches the device
            if (engine.pass.threadBound()) engine.batcher.start();
            engine.reloadAdapters();
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
        log.info("Engine ready in {} ms: backbone {} ({} layers, hidden {}), {} adapters in {}, {} in host memory, {} refused; "
                        + "device tier {} slots x {} KiB (rank {}), host tier {} KiB; provider {}{}, {}, bank and KV cache in {} memory "
                        + "(bank ranks {}, {} KiB); {}",
                (System.nanoTime() - t0) / 1_000_000, model.name(), model.numHiddenLayers(), model.hiddenSize(),
                engine.scannedIds.size(), engine.store, engine.cache.hostResident().size(), engine.cache.failures().size(),
                capacities.deviceSlots(), capacities.slotBytes() / 1024, config.maxLoraRank(), capacities.hostBytes() / 1024, provider,
                provider == ExecutionProvider.CUDA ? (config.tf32() ? " (TF32 on)" : " (TF32 off)") : "", precision.label(),
                session.memory().kind(), layout.describeRanks(), bank.sizeBytes() / 1024, engine.pass.description());
        return engine;
    }

    private static DecoderSession openSession(OrtEnvironment env, Path graph, ModelConfig model, ExecutionProvider provider, EngineConfig config,
                                              Precision precision, GraphChoice choice) throws OrtException {
        return DecoderSession.open(env, graph, model, provider, config.effectiveIntraOpThreads(), config.tf32(), precision,
                config.effectiveDeviceTensors(choice.fused()), choice.cudaGraphs());
    }

    /**
     * The bank's fixed shape: per projection, the configured rank ({@code bankRank}) or else the
     * largest rank the store's adapters use for it at start-up (adapters above {@code maxLoraRank}
     * are left out: they are refused when loaded), for the projections they target plus the
     * configured {@code bankTargets}; {@code slots} slots including slot 0.
     */
    static BankLayout bankLayout(AdapterStore store, ModelConfig model, EngineConfig config, int slots, Precision precision) {
        Map<Projection, Integer> found = new EnumMap<>(Projection.class);
        for (String id : store.ids()) {
            try {
                AdapterConfig c = AdapterConfig.read(store.directory(id));
                for (int l = 0; l < model.numHiddenLayers(); l++) {
                    for (Projection p : c.targetsIn(l)) {
                        int r = c.rankFor(p.modulePath(l));
                        if (r <= config.maxLoraRank()) found.merge(p, r, Math::max);
                    }
                }
            } catch (RuntimeException e) {
                // refused with its reason when it is loaded
            }
        }
        for (String t : config.bankTargets()) found.putIfAbsent(Projection.byModuleName(t).orElseThrow(), 1);
        Map<Projection, Integer> ranks = new EnumMap<>(Projection.class);
        found.forEach((p, r) -> ranks.put(p, config.bankRank() > 0 ? config.bankRank() : r));
        return new BankLayout(ranks, slots, precision);
    }

    private static Path cacheDir(EngineConfig config) {
        if (config.cacheDir() != null || Files.isWritable(config.modelDir())) return config.effectiveCacheDir();
        Path fallback = Path.of(System.getProperty("java.io.tmpdir"), "lorastream-cache");
        log.warn("Model directory {} is not writable; caching the decoder graph in {}", config.modelDir(), fallback);
        return fallback;
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> Thread.ofPlatform().daemon().name(prefix + "-" + n.incrementAndGet()).unstarted(r);
    }

    private LoraAdapter loadFromStore(String id) {
        LoraAdapter a = loader.load(id, store.directory(id));
        descriptors.put(id, AdapterDescriptor.of(a));
        bank.pack(a); // refused here when it does not fit the bank's fixed shape; laid out as a slot now, so placing it on the device is copies only
        return a;
    }

    /**
     * Rescans the adapter store: forgets cached copies of adapters that left it or whose files
     * changed (in-use device slots when their requests finish), retries remembered failures,
     * and loads adapters into host memory while it has room.
     *
     * @return whether the store's adapters, their versions or the failures changed
     */
    @Override
    public synchronized boolean reloadAdapters() {
        Set<String> ids = new TreeSet<>(store.ids());
        boolean changed = !ids.equals(scannedIds);
        Map<String, String> failedBefore = cache.failures();
        Set<String> known = new TreeSet<>(descriptors.keySet());
        known.addAll(failedBefore.keySet());
        for (String id : known) {
            AdapterDescriptor d = descriptors.get(id);
            if (!ids.contains(id) || (d != null && !d.contentHash().equals(hashOrNull(id)))) {
                cache.forget(id);
                descriptors.remove(id);
                changed = true;
            }
        }
        cache.forgetFailures();
        for (String id : failedBefore.keySet()) {
            if (ids.contains(id)) cache.prefetch(id).handle((a, e) -> null).join();
        }
        scannedIds = Collections.unmodifiableSet(ids);
        cache.warmUp(ids);
        return changed || !cache.failures().equals(failedBefore);
    }

    /**
     * Rescans one adapter of the store: forgets its cached copies in every tier (in-use device slots when their
     * requests finish) and a remembered failure when it left the store, its files changed or its load had failed,
     * then loads it into host memory while there is room.
     */
    @Override
    public synchronized boolean reloadAdapter(String id) {
        boolean inStore = store.contains(id);
        AdapterDescriptor d = descriptors.get(id);
        boolean changed = !inStore || d == null || cache.failure(id) != null || !d.contentHash().equals(hashOrNull(id));
        if (changed) {
            cache.forget(id);
            descriptors.remove(id);
        }
        scannedIds = Collections.unmodifiableSet(new TreeSet<>(store.ids()));
        if (inStore && changed) cache.warmUp(List.of(id));
        return changed;
    }

    private String hashOrNull(String id) {
        try {
            return AdapterLoader.contentHash(store.directory(id));
        } catch (AdapterValidationException e) {
            return null;
        }
    }

    /** The cheap part of validation: the store knows the adapter and it has not failed to load. */
    private void checkAdapter(String id) throws InvalidTaskException {
        AdapterLoadException failure = cache.failure(id);
        if (failure != null) throw new InvalidTaskException(TaskValidator.ADAPTER_LOAD_FAILED, "adapter_id", failure.getMessage());
        if (cache.status(id) == AdapterStatus.COLD && !store.contains(id)) {
            throw new InvalidTaskException(TaskValidator.UNKNOWN_ADAPTER, "adapter_id", "adapter '" + id + "' is not in the adapter store (" + store + ")");
        }
    }

    @Override
    public ModelInfo model() { return info; }

    /** The backbone's config. */
    public ModelConfig modelConfig() { return model; }

    public Tokenizer tokenizer() { return tokenizer; }

    /** The settings this engine was opened with. */
    public EngineConfig config() { return config; }

    /** The scheduler: submit tasks and step it, or start its loop. */
    public ContinuousBatcher batcher() { return batcher; }

    /** Which decoder graph runs, and why. */
    public GraphChoice graphChoice() { return choice; }

    /** The batcher's prefill and decode passes (read under its step lock: waits for a step in progress). */
    @Override
    public long forwardPasses() { return batcher.stats().passes(); }

    /**
     * Memory from CUDA on a GPU (the whole device's, as {@code cudaMemGetInfo} gives it); on the CPU the
     * engine's budget: the KV cache, the bank and the host tier, free being what they do not hold now.
     */
    @Override
    public EngineLoad load() {
        AdapterCache.Snapshot c = cache.snapshot();
        ContinuousBatcher.Occupancy o = batcher.occupancy();
        long kvTokens = (long) pass.maxRows() * pass.capacity();
        long perToken = 2L * model.numHiddenLayers() * model.numKeyValueHeads() * model.headDim() * session.precision().bytes();
        long total, free;
        if (session.memory().onGpu()) {
            long[] info = Cuda.get().memInfo();
            free = info[0];
            total = info[1];
        } else {
            total = kvTokens * perToken + bank.sizeBytes() + c.capacities().hostBytes();
            free = Math.max(0, total - o.kvTokens() * perToken - bank.sizeBytes() - c.hostBytesUsed());
        }
        return new EngineLoad(total, free, bank.slotCount() - 1, c.deviceSlotsUsed(), pass.maxRows(), o.running(), batcher.waitingCount(),
                kvTokens, o.kvTokens(), o.generatedTokens(), c.deviceResident(), c.hostResident(), false);
    }

    /** The engine's parts as values: graph, bank, cache tiers, scheduler counters, adapter versions. */
    public EngineStatus status() {
        TreeMap<String, String> versions = new TreeMap<>();
        descriptors.forEach((id, d) -> versions.put(id, d.version()));
        return new EngineStatus(choice, graphPath, EngineStatus.Bank.of(bank, model), cache.snapshot(), batcher.stats(),
                Collections.unmodifiableSortedMap(versions));
    }

    /**
     * Ends ONNX Runtime's profiling of this engine's session (on when it was opened with the
     * {@value DecoderSession#PROFILE_PROPERTY} system property) and returns the profile's file.
     */
    public Path endProfiling() {
        try {
            return Path.of(session.endProfiling());
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime could not end its profile: " + e.getMessage(), e);
        }
    }

    public AdapterMetrics metrics() { return metrics; }

    @Override
    public String prometheusText() { return metrics.prometheusText(); }

    /** Every adapter of the store, loaded or not. */
    @Override
    public Set<String> adapterIds() { return Collections.unmodifiableSet(new TreeSet<>(store.ids())); }

    @Override
    public Set<String> residentAdapterIds() {
        Set<String> ids = new TreeSet<>(cache.deviceResident());
        ids.addAll(cache.hostResident().keySet());
        return Collections.unmodifiableSet(ids);
    }

    /** Adapters whose load failed, with the reason (remembered until {@link #reloadAdapters}). */
    public Map<String, String> failedAdapters() { return cache.failures(); }

    @Override
    public List<ContributorShare> contributors(String adapterId) {
        if (adapterId == null) return List.of();
        return descriptor(adapterId).contributors();
    }

    @Override
    public String adapterVersion(String adapterId) {
        if (adapterId == null) return "sha256:" + backboneHash.substring(0, 12);
        return descriptor(adapterId).version();
    }

    private AdapterDescriptor descriptor(String id) {
        AdapterDescriptor d = descriptors.get(id);
        if (d != null) return d;
        if (!store.contains(id)) throw new IllegalArgumentException("adapter '" + id + "' is not in the adapter store (" + store + ")");
        try {
            d = AdapterDescriptor.read(id, store.directory(id));
        } catch (AdapterValidationException e) {
            throw new IllegalArgumentException("adapter '" + id + "': " + e.getMessage(), e);
        }
        descriptors.putIfAbsent(id, d);
        return d;
    }

    @Override
    public int[] encode(String text) { return tokenizer.encode(text); }

    @Override
    public String decode(int[] tokenIds) { return tokenizer.decode(tokenIds); }

    /**
     * Also loads the task's adapter into host memory when no tier holds it, so a broken adapter
     * is refused here (ADAPTER_LOAD_FAILED, adapter_id) with the load's reason; repeats fail fast.
     */
    @Override
    public void validate(GenerationTask task) throws InvalidTaskException {
        if (closed) throw new IllegalStateException("engine is closed");
        validator.validate(task);
        String id = task.adapterId();
        if (id == null || cache.onDevice(id) || cache.inHost(id)) return;
        try {
            cache.load(id);
        } catch (AdapterLoadException e) {
            throw new InvalidTaskException(TaskValidator.ADAPTER_LOAD_FAILED, "adapter_id", e.getMessage());
        }
    }

    @Override
    public List<Generation> generate(List<GenerationTask> batch) {
        return generate(batch, LogitsObserver.NONE);
    }

    /**
     * {@link #generate(List)} that also shows each row's logits to an observer. Submits every
     * task to the batcher (at most maxBatchSize run at once; the rest join as rows finish) and
     * drives it until all are done.
     *
     * @throws IllegalArgumentException when a task does not pass {@link #validate}
     * @throws IllegalStateException    when a forward pass failed for a task
     */
    public List<Generation> generate(List<GenerationTask> batch, LogitsObserver observer) {
        if (closed) throw new IllegalStateException("engine is closed");
        if (batch.isEmpty()) return List.of();
        for (GenerationTask t : batch) {
            try {
                validate(t);
            } catch (InvalidTaskException e) {
                throw new IllegalArgumentException("task " + t.requestId() + ": " + e.code() + " " + e.field() + ": " + e.getMessage(), e);
            }
        }
        List<CompletableFuture<Generation>> futures = batcher.submitAll(batch, observer, false);
        batcher.runUntilDone(futures);
        List<Generation> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            try {
                out.add(futures.get(i).join());
            } catch (CompletionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof InvalidTaskException invalid) {
                    throw new IllegalArgumentException("task " + batch.get(i).requestId() + ": " + invalid.code() + " " + invalid.field() + ": " + invalid.getMessage(), invalid);
                }
                throw new IllegalStateException("task " + batch.get(i).requestId() + " failed: " + cause.getMessage(), cause);
            }
        }
        return out;
    }

    /** Queues a task for the batcher's own loop (started on first use); see {@link ContinuousBatcher#submit}. */
    @Override
    public CompletableFuture<Generation> submit(GenerationTask task) {
        return submit(task, TokenListener.NONE);
    }

    /** Tokens are told as each step takes them, on the batcher's thread. */
    @Override
    public CompletableFuture<Generation> submit(GenerationTask task, TokenListener tokens) {
        if (closed) return CompletableFuture.failedFuture(new IllegalStateException("engine is closed"));
        batcher.start();
        return batcher.submit(task, tokens);
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        batcher.close();
        cache.close();
        loads.shutdownNow();
        pass.close();
        bank.close();
        session.close();
    }
}
