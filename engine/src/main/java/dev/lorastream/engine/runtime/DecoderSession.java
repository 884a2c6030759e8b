package dev.lorastream.engine.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.lorastream.engine.graph.GraphNames;
import dev.lorastream.engine.graph.Precision;
import dev.lorastream.engine.adapters.AdapterBank;
import dev.lorastream.engine.model.ModelConfig;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The resident ONNX Runtime session of the decoder graph: one forward step over a batch. With
 * {@link DeviceMemory} of the session's allocator, each step's present.* outputs are written into
 * tensors the engine allocated there (pinned outputs) and fed back as the next step's past, so
 * only the logits leave the device.
 */
public final class DecoderSession implements AutoCloseable {
    private static final Set<String> LOGITS_AND_TOKENS = Set.of(GraphNames.LOGITS, GraphNames.NEXT_TOKEN);
    private static final Set<String> TOKENS_ONLY = Set.of(GraphNames.NEXT_TOKEN);
    /** Diagnostics: a file prefix here makes sessions opened from now on write ONNX Runtime's profile (see {@link #endProfiling}). */
    public static final String PROFILE_PROPERTY = "lorastream.ort.profile";

    private final OrtEnvironment env;
    private final OrtSession session;
    private final ModelConfig config;
    private final Precision precision;
    private final DeviceMemory memory;

    /**
     * Logits of each row's last position (null when not asked for), each row's greedy next token,
     * and the cache extended by this step's tokens.
     */
    public record Step(float[][] logits, long[] greedy, KvCache cache) {}

    private DecoderSession(OrtEnvironment env, OrtSession session, ModelConfig config, Precision precision, DeviceMemory memory) {
        this.env = env;
        this.session = session;
        this.config = config;
        this.precision = precision;
        this.memory = memory;
    }

    /** A float32 session whose cache lives in Java buffers (TF32 off on CUDA). */
    public static DecoderSession open(OrtEnvironment env, Path onnxFile, ModelConfig config, ExecutionProvider provider, int intraOpThreads) throws OrtException {
        return open(env, onnxFile, config, provider, intraOpThreads, false, Precision.FP32, false);
    }

    /**
     * @param tf32          CUDA: TF32 matmuls
     * @param precision     the graph's precision (what its cache and bank inputs take)
     * @param deviceTensors keep the cache (and the bank made by the caller in {@link #memory()}) in
     *                      the session allocator's memory: device memory on CUDA, ONNX Runtime's CPU memory on the CPU
     */
    public static DecoderSession open(OrtEnvironment env, Path onnxFile, ModelConfig config, ExecutionProvider provider, int intraOpThreads,
                                      boolean tf32, Precision precision, boolean deviceTensors) throws OrtException {
        if (precision != Precision.FP32 && !deviceTensors) throw new IllegalArgumentException("a " + precision.label() + " graph needs device tensors");
        OrtSession session;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(intraOpThreads);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            String profile = System.getProperty(PROFILE_PROPERTY);
            if (profile != null && !profile.isBlank()) options.enableProfiling(profile);
            provider.configure(options, tf32);
            session = env.createSession(onnxFile.toString(), options);
        }
        DeviceMemory memory;
        try {
            memory = deviceTensors
                    ? DeviceMemory.of(env, session, provider == ExecutionProvider.CUDA ? DeviceMemory.Kind.CUDA : DeviceMemory.Kind.ORT_CPU)
                    : DeviceMemory.host(env);
        } catch (RuntimeException e) {
            session.close();
            throw new IllegalStateException("cannot keep tensors in " + provider + " memory: " + e.getMessage(), e);
        }
        return new DecoderSession(env, session, config, precision, memory);
    }

    /** Ends ONNX Runtime's profiling (sessions opened with {@link #PROFILE_PROPERTY}) and returns the profile's file. */
    public String endProfiling() throws OrtException {
        return session.endProfiling();
    }

    /** Where the cache lives, and where the caller should make the bank. */
    public DeviceMemory memory() { return memory; }

    public Precision precision() { return precision; }

    /** A cache with no tokens, for a prefill. */
    public KvCache emptyCache(int batch) throws OrtException {
        long[] shape = {batch, config.numKeyValueHeads(), 0, config.headDim()};
        if (memory.usesCApi()) {
            Map<String, DeviceTensor> d = new LinkedHashMap<>();
            try {
                for (int l = 0; l < config.numHiddenLayers(); l++) {
                    d.put(GraphNames.pastKey(l), memory.allocate(precision, shape));
                    d.put(GraphNames.pastValue(l), memory.allocate(precision, shape));
                }
            } catch (RuntimeException e) {
                d.values().forEach(DeviceTensor::close);
                throw e;
            }
            return KvCache.managed(d);
        }
        Map<String, OnnxTensor> m = new LinkedHashMap<>();
        try {
            for (int l = 0; l < config.numHiddenLayers(); l++) {
                m.put(GraphNames.pastKey(l), OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape));
                m.put(GraphNames.pastValue(l), OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape));
            }
        } catch (OrtException | RuntimeException e) {
            m.values().forEach(OnnxTensor::close);
            throw e;
        }
        return KvCache.empty(m);
    }

    /**
     * Runs one step. {@code attentionMask} covers the cached tokens and the new ones
     * ([batch, past + seq]). The past cache stays open (the caller closes it).
     */
    public Step run(long[][] inputIds, long[][] positionIds, long[][] attentionMask, long[] loraSlots, KvCache past, AdapterBank bank) throws OrtException {
        return run(inputIds, positionIds, attentionMask, loraSlots, past, bank, true);
    }

    /**
     * @param withLogits whether to bring the logits to the host; without, only the greedy tokens
     *                   ([batch] ids instead of [batch, vocab] floats) leave the device
     */
    public Step run(long[][] inputIds, long[][] positionIds, long[][] attentionMask, long[] loraSlots, KvCache past, AdapterBank bank,
                    boolean withLogits) throws OrtException {
        int batch = inputIds.length;
        List<OnnxTensor> created = new ArrayList<>();
        try {
            Map<String, OnnxTensor> inputs = new HashMap<>(bank.inputs());
            inputs.putAll(past.pastInputs());
            inputs.put(GraphNames.INPUT_IDS, longs(inputIds, created));
            inputs.put(GraphNames.POSITION_IDS, longs(positionIds, created));
            inputs.put(GraphNames.ATTENTION_MASK, longs(attentionMask, created));
            OnnxTensor slots = OnnxTensor.createTensor(env, LongBuffer.wrap(loraSlots), new long[] {batch});
            created.add(slots);
            inputs.put(GraphNames.LORA_SLOT, slots);
            if (past.isManaged()) return runPinned(inputs, batch, past.length() + inputIds[0].length, withLogits);
            OrtSession.Result result = session.run(inputs, withLogits ? allOutputs() : allButLogits());
            try {
                float[][] logits = withLogits ? logits(result, batch) : null;
                return new Step(logits, greedy(result), KvCache.fromResult(result, config.numHiddenLayers()));
            } catch (RuntimeException e) {
                result.close();
                throw e;
            }
        } finally {
            created.forEach(OnnxTensor::close);
        }
    }

    private Set<String> allOutputs;
    private Set<String> allButLogits;

    private Set<String> allOutputs() {
        if (allOutputs == null) allOutputs = Set.copyOf(session.getOutputNames());
        return allOutputs;
    }

    private Set<String> allButLogits() {
        if (allButLogits == null) {
            Set<String> s = new java.util.HashSet<>(allOutputs());
            s.remove(GraphNames.LOGITS);
            allButLogits = Set.copyOf(s);
        }
        return allButLogits;
    }

    private float[][] logits(OrtSession.Result result, int batch) {
        FloatBuffer fb = ((OnnxTensor) result.get(GraphNames.LOGITS).orElseThrow()).getFloatBuffer();
        float[][] logits = new float[batch][config.vocabSize()];
        for (int b = 0; b < batch; b++) fb.get(logits[b]);
        return logits;
    }

    private static long[] greedy(OrtSession.Result result) {
        LongBuffer lb = ((OnnxTensor) result.get(GraphNames.NEXT_TOKEN).orElseThrow()).getLongBuffer();
        long[] t = new long[lb.remaining()];
        lb.get(t);
        return t;
    }

    /** The run with present.* written into fresh tensors of {@link #memory}; only the logits (or only the greedy tokens) come back. */
    private Step runPinned(Map<String, OnnxTensor> inputs, int batch, int total, boolean withLogits) throws OrtException {
        Map<String, DeviceTensor> presents = new LinkedHashMap<>();
        try {
            long[] shape = {batch, config.numKeyValueHeads(), total, config.headDim()};
            Map<String, OnnxTensor> pinned = new HashMap<>();
            for (int l = 0; l < config.numHiddenLayers(); l++) {
                DeviceTensor k = memory.allocate(precision, shape);
                presents.put(GraphNames.pastKey(l), k);
                pinned.put(GraphNames.presentKey(l), k.tensor());
                DeviceTensor v = memory.allocate(precision, shape);
                presents.put(GraphNames.pastValue(l), v);
                pinned.put(GraphNames.presentValue(l), v.tensor());
            }
            float[][] logits;
            long[] greedy;
            try (OrtSession.Result result = session.run(inputs, withLogits ? LOGITS_AND_TOKENS : TOKENS_ONLY, pinned)) {
                logits = withLogits ? logits(result, batch) : null;
                greedy = greedy(result);
            }
            return new Step(logits, greedy, KvCache.managed(presents));
        } catch (OrtException | RuntimeException e) {
            presents.values().forEach(DeviceTensor::close);
            throw e;
        }
    }

    /** A cache of the given rows (see {@link KvCache#compose}), in the memory the rows are in. */
    public KvCache compose(List<KvCache.Row> rows) throws OrtException {
        if (!rows.isEmpty() && rows.getFirst().cache().isManaged()) return KvCache.compose(memory, config.numHiddenLayers(), rows);
        return KvCache.compose(env, config.numHiddenLayers(), rows);
    }

    private OnnxTensor longs(long[][] rows, List<OnnxTensor> created) throws OrtException {
        int width = rows.length == 0 ? 0 : rows[0].length;
        LongBuffer buf = LongBuffer.allocate(rows.length * width);
        for (long[] row : rows) {
            if (row.length != width) throw new IllegalArgumentException("ragged input rows: " + row.length + " vs " + width);
            buf.put(row);
        }
        buf.flip();
        OnnxTensor t = OnnxTensor.createTensor(env, buf, new long[] {rows.length, width});
        created.add(t);
        return t;
    }

    /** Closes the allocator (every tensor made in {@link #memory} must be closed first), then the session. */
    @Override
    public void close() {
        try {
            memory.close();
        } catch (RuntimeException e) {
            // the session is closed regardless
        }
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing the ONNX Runtime session failed: " + e.getMessage(), e);
        }
    }
}
