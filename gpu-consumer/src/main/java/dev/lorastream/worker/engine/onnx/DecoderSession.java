package dev.lorastream.worker.engine.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.lorastream.worker.engine.graph.GraphNames;
import dev.lorastream.worker.engine.lora.AdapterBank;
import dev.lorastream.worker.engine.model.ModelConfig;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The resident ONNX Runtime session of the decoder graph: one forward step over a batch. */
public final class DecoderSession implements AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final ModelConfig config;

    /** Logits of each row's last position, and the cache extended by this step's tokens. */
    public record Step(float[][] logits, KvCache cache) {}

    private DecoderSession(OrtEnvironment env, OrtSession session, ModelConfig config) {
        this.env = env;
        this.session = session;
        this.config = config;
    }

    public static DecoderSession open(OrtEnvironment env, Path onnxFile, ModelConfig config, ExecutionProvider provider, int intraOpThreads) throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(intraOpThreads);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            provider.configure(options);
            return new DecoderSession(env, env.createSession(onnxFile.toString(), options), config);
        }
    }

    /** A cache with no tokens, for a prefill. */
    public KvCache emptyCache(int batch) throws OrtException {
        Map<String, OnnxTensor> m = new LinkedHashMap<>();
        long[] shape = {batch, config.numKeyValueHeads(), 0, config.headDim()};
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
            OrtSession.Result result = session.run(inputs);
            try {
                OnnxTensor logitsTensor = (OnnxTensor) result.get(GraphNames.LOGITS).orElseThrow();
                FloatBuffer fb = logitsTensor.getFloatBuffer();
                int vocab = config.vocabSize();
                float[][] logits = new float[batch][vocab];
                for (int b = 0; b < batch; b++) fb.get(logits[b]);
                return new Step(logits, KvCache.fromResult(result, config.numHiddenLayers()));
            } catch (RuntimeException e) {
                result.close();
                throw e;
            }
        } finally {
            created.forEach(OnnxTensor::close);
        }
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

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing the ONNX Runtime session failed: " + e.getMessage(), e);
        }
    }
}
