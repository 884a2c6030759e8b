package dev.lorastream.worker.engine.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.lorastream.worker.engine.ContributorShare;
import dev.lorastream.worker.engine.EngineConfig;
import dev.lorastream.worker.engine.Generation;
import dev.lorastream.worker.engine.GenerationTask;
import dev.lorastream.worker.engine.InferenceEngine;
import dev.lorastream.worker.engine.InvalidTaskException;
import dev.lorastream.worker.engine.ModelInfo;
import dev.lorastream.worker.engine.graph.GraphCache;
import dev.lorastream.worker.engine.graph.OnnxModelWriter;
import dev.lorastream.worker.engine.lora.AdapterBank;
import dev.lorastream.worker.engine.lora.AdapterLoader;
import dev.lorastream.worker.engine.lora.AdapterStore;
import dev.lorastream.worker.engine.lora.AdapterValidationException;
import dev.lorastream.worker.engine.lora.FileAdapterStore;
import dev.lorastream.worker.engine.lora.LoraAdapter;
import dev.lorastream.worker.engine.model.ModelConfig;
import dev.lorastream.worker.engine.tokenizer.Tokenizer;
import dev.lorastream.worker.engine.tokenizer.Tokenizers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The worker's engine on ONNX Runtime: one resident session of the decoder graph built from a
 * Hugging Face backbone, every valid adapter of the adapter directory in one LoRA bank, and
 * batches whose rows use different adapters generated in shared forward passes.
 * Methods are synchronized; one batch runs at a time.
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
    private final Set<Integer> eosIds;
    private Map<String, LoraAdapter> adapters;
    private Map<String, String> failed;
    private AdapterBank bank;
    private TaskValidator validator;
    private boolean closed;

    private OnnxLoraEngine(EngineConfig config, ModelConfig model, Tokenizer tokenizer, String backboneHash, Path graphPath,
                           DecoderSession session, ExecutionProvider provider) {
        this.config = config;
        this.model = model;
        this.tokenizer = tokenizer;
        this.backboneHash = backboneHash;
        this.graphPath = graphPath;
        this.session = session;
        Set<Integer> eos = new LinkedHashSet<>(model.eosTokenIds());
        if (eos.isEmpty() && tokenizer.eosId() >= 0) eos.add(tokenizer.eosId());
        this.eosIds = Collections.unmodifiableSet(eos);
        this.info = new ModelInfo(model.name(), model.maxSequenceLength(), model.vocabSize(), eos.isEmpty() ? -1 : eos.iterator().next(), provider.name());
        this.store = new FileAdapterStore(config.adapterDir());
        Set<String> names = Set.of(model.name(), config.modelDir().toAbsolutePath().normalize().getFileName().toString());
        this.loader = new AdapterLoader(model, names, config.maxLoraRank());
    }

    public static OnnxLoraEngine open(EngineConfig config) {
        ExecutionProvider provider = ExecutionProvider.parse(config.executionProvider());
        provider.checkAvailable();
        if (config.adapterDir() != null && !Files.isDirectory(config.adapterDir())) {
            throw new IllegalArgumentException("adapter directory " + config.adapterDir() + " does not exist or is not a directory");
        }
        long t0 = System.nanoTime();
        ModelConfig model = ModelConfig.read(config.modelDir());
        Tokenizer tokenizer = Tokenizers.forModel(config.modelDir(), model);
        String hash = GraphCache.contentHash(config.modelDir());
        Path graph = new GraphCache(cacheDir(config), OnnxModelWriter.DEFAULT_INLINE_LIMIT).ensure(config.modelDir(), model, hash);
        DecoderSession session;
        try {
            session = DecoderSession.open(OrtEnvironment.getEnvironment(), graph, model, provider, config.effectiveIntraOpThreads());
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime could not load the decoder graph " + graph + ": " + e.getMessage(), e);
        }
        OnnxLoraEngine engine = new OnnxLoraEngine(config, model, tokenizer, hash, graph, session, provider);
        try {
            engine.reloadAdapters();
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
        log.info("Engine ready in {} ms: backbone {} ({} layers, hidden {}), {} adapters {}, {} refused, provider {}",
                (System.nanoTime() - t0) / 1_000_000, model.name(), model.numHiddenLayers(), model.hiddenSize(),
                engine.adapters.size(), engine.adapters.keySet(), engine.failed.size(), provider);
        return engine;
    }

    private static Path cacheDir(EngineConfig config) {
        if (config.cacheDir() != null || Files.isWritable(config.modelDir())) return config.effectiveCacheDir();
        Path fallback = Path.of(System.getProperty("java.io.tmpdir"), "lorastream-cache");
        log.warn("Model directory {} is not writable; caching the decoder graph in {}", config.modelDir(), fallback);
        return fallback;
    }

    /**
     * Rescans the adapter directory; rebuilds the bank only when the set of adapters (ids and
     * versions) changed. Adapters that fail validation are remembered with the reason.
     *
     * @return whether the bank was rebuilt
     */
    public synchronized boolean reloadAdapters() {
        Map<String, LoraAdapter> loaded = new TreeMap<>();
        Map<String, String> refused = new TreeMap<>();
        for (String id : store.ids()) {
            try {
                loaded.put(id, loader.load(id, store.directory(id)));
            } catch (AdapterValidationException e) {
                log.warn("Adapter {} refused: {}", id, e.getMessage());
                refused.put(id, e.getMessage());
            }
        }
        this.failed = Collections.unmodifiableMap(refused);
        if (adapters != null && versions(adapters).equals(versions(loaded))) return false;
        AdapterBank next;
        try {
            next = AdapterBank.build(OrtEnvironment.getEnvironment(), model, new ArrayList<>(loaded.values()));
        } catch (OrtException e) {
            throw new IllegalStateException("cannot build the LoRA bank: " + e.getMessage(), e);
        }
        if (bank != null) bank.close();
        bank = next;
        adapters = Collections.unmodifiableMap(loaded);
        int limit = config.maxNewTokensLimit() > 0 ? config.maxNewTokensLimit() : model.maxSequenceLength();
        validator = new TaskValidator(model.vocabSize(), model.maxSequenceLength(), limit, this::adapterProblem);
        log.info("LoRA bank: {} slots, {} KiB", bank.slotCount(), bank.sizeBytes() / 1024);
        return true;
    }

    private static Map<String, String> versions(Map<String, LoraAdapter> m) {
        Map<String, String> v = new TreeMap<>();
        m.forEach((id, a) -> v.put(id, a.contentHash()));
        return v;
    }

    private String adapterProblem(String id) {
        if (adapters.containsKey(id)) return null;
        String reason = failed.get(id);
        return reason != null ? "adapter '" + id + "' was refused: " + reason : "adapter '" + id + "' is not known to this worker (known: " + adapters.keySet() + ")";
    }

    @Override
    public ModelInfo model() { return info; }

    /** The backbone's config. */
    public ModelConfig modelConfig() { return model; }

    public Tokenizer tokenizer() { return tokenizer; }

    /** The cached ONNX graph this engine runs. */
    public Path graphPath() { return graphPath; }

    @Override
    public synchronized Set<String> adapterIds() { return adapters.keySet(); }

    /** Adapters of the directory that were refused, with the reason. */
    public synchronized Map<String, String> failedAdapters() { return failed; }

    /** Loaded adapters by id. */
    public synchronized Map<String, LoraAdapter> adapters() { return adapters; }

    @Override
    public synchronized List<ContributorShare> contributors(String adapterId) {
        if (adapterId == null) return List.of();
        return adapter(adapterId).metadata().contributors();
    }

    @Override
    public synchronized String adapterVersion(String adapterId) {
        if (adapterId == null) return "sha256:" + backboneHash.substring(0, 12);
        return adapter(adapterId).version();
    }

    private LoraAdapter adapter(String id) {
        LoraAdapter a = adapters.get(id);
        if (a == null) throw new IllegalArgumentException(adapterProblem(id));
        return a;
    }

    @Override
    public int[] encode(String text) { return tokenizer.encode(text); }

    @Override
    public String decode(int[] tokenIds) { return tokenizer.decode(tokenIds); }

    @Override
    public synchronized void validate(GenerationTask task) throws InvalidTaskException {
        validator.validate(task);
    }

    @Override
    public List<Generation> generate(List<GenerationTask> batch) {
        return generate(batch, LogitsObserver.NONE);
    }

    /**
     * {@link #generate(List)} that also shows each row's logits to an observer.
     *
     * @throws IllegalArgumentException when a task does not pass {@link #validate}
     */
    public synchronized List<Generation> generate(List<GenerationTask> batch, LogitsObserver observer) {
        if (closed) throw new IllegalStateException("engine is closed");
        if (batch.isEmpty()) return List.of();
        for (GenerationTask t : batch) {
            try {
                validator.validate(t);
            } catch (InvalidTaskException e) {
                throw new IllegalArgumentException("task " + t.requestId() + ": " + e.code() + " " + e.field() + ": " + e.getMessage(), e);
            }
        }
        Generator generator = new Generator(session, bank, tokenizer.padId(), eosIds);
        List<Generation> out = new ArrayList<>(batch.size());
        int max = config.maxBatchSize();
        for (int from = 0; from < batch.size(); from += max) {
            int offset = from;
            List<GenerationTask> chunk = batch.subList(from, Math.min(batch.size(), from + max));
            try {
                out.addAll(generator.run(chunk, (row, step, logits) -> observer.onLogits(offset + row, step, logits)));
            } catch (OrtException e) {
                throw new IllegalStateException("forward pass failed: " + e.getMessage(), e);
            }
        }
        return out;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (bank != null) bank.close();
        session.close();
    }

    /** Adapter id to version, for status reports. */
    public synchronized Map<String, String> adapterVersions() {
        Map<String, String> m = new LinkedHashMap<>();
        adapters.forEach((id, a) -> m.put(id, a.version()));
        return m;
    }
}
