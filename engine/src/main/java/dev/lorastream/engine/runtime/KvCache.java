package dev.lorastream.engine.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.lorastream.engine.graph.GraphNames;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keys and values of every layer for the tokens seen so far, [batch, kv_heads, length, head_dim].
 * Owns empty tensors (before prefill), the previous step's result (whose present.* tensors are
 * fed back as past_key_values.* without copying), or tensors {@link #compose composed} from rows
 * of other caches when the running batch changes.
 *
 * <p>A cache in {@link DeviceMemory} ({@link #managed}) owns tensors the engine allocated: the
 * step wrote its present.* outputs into them (pinned outputs), so on CUDA they never leave the
 * device; composing copies rows device to device.
 */
public final class KvCache implements AutoCloseable {
    private final Map<String, OnnxTensor> pastInputs;
    private final OrtSession.Result owner;
    private final List<OnnxTensor> owned;
    /** The direct buffers under composed tensors, by input name; empty for a step's result. */
    private final Map<String, FloatBuffer> buffers;
    /** Tensors in DeviceMemory by input name; empty for host caches. */
    private final Map<String, DeviceTensor> managed;

    /** Positions {@code [length - tokens, length)} of row {@code row} of {@code cache}: one sequence's keys and values. */
    public record Row(KvCache cache, int row, int tokens) {}

    private KvCache(Map<String, OnnxTensor> pastInputs, OrtSession.Result owner, List<OnnxTensor> owned, Map<String, FloatBuffer> buffers) {
        this(pastInputs, owner, owned, buffers, Map.of());
    }

    private KvCache(Map<String, OnnxTensor> pastInputs, OrtSession.Result owner, List<OnnxTensor> owned, Map<String, FloatBuffer> buffers,
                    Map<String, DeviceTensor> managed) {
        this.pastInputs = pastInputs;
        this.owner = owner;
        this.owned = owned;
        this.buffers = buffers;
        this.managed = managed;
    }

    /** A cache of tensors in DeviceMemory (it closes them), by past_key_values.* name. */
    static KvCache managed(Map<String, DeviceTensor> tensors) {
        Map<String, OnnxTensor> m = new LinkedHashMap<>();
        tensors.forEach((k, v) -> m.put(k, v.tensor()));
        return new KvCache(m, null, List.of(), Map.of(), new LinkedHashMap<>(tensors));
    }

    boolean isManaged() { return !managed.isEmpty(); }

    /**
     * {@link #compose} for caches in DeviceMemory: one zeroed tensor per input, then one strided
     * copy (every head of one row) per row and input, device to device on CUDA.
     */
    static KvCache compose(DeviceMemory mem, int layers, List<Row> rows) {
        if (rows.isEmpty()) throw new IllegalArgumentException("a cache needs at least one row");
        int total = rows.stream().mapToInt(Row::tokens).max().orElseThrow();
        Map<String, DeviceTensor> out = new LinkedHashMap<>();
        try {
            for (int l = 0; l < layers; l++) {
                for (String name : List.of(GraphNames.pastKey(l), GraphNames.pastValue(l))) {
                    DeviceTensor first = source(rows.getFirst(), name);
                    long heads = first.shape()[1], headDim = first.shape()[3];
                    long eb = first.type().bytes();
                    DeviceTensor t = mem.zeros(first.type(), rows.size(), heads, total, headDim);
                    out.put(name, t);
                    for (int r = 0; r < rows.size(); r++) {
                        Row row = rows.get(r);
                        DeviceTensor src = source(row, name);
                        long srcLength = src.shape()[2];
                        if (row.tokens() > srcLength || row.row() >= src.shape()[0]) {
                            throw new IllegalArgumentException("row " + row.row() + " with " + row.tokens() + " tokens is not in a cache of shape "
                                    + java.util.Arrays.toString(src.shape()));
                        }
                        long width = row.tokens() * headDim * eb;
                        long dstOffset = ((r * heads) * total + total - row.tokens()) * headDim * eb;
                        long srcOffset = ((row.row() * heads) * srcLength + srcLength - row.tokens()) * headDim * eb;
                        mem.copy2D(t.data(), dstOffset, total * headDim * eb, src.data(), srcOffset, srcLength * headDim * eb, width, heads);
                    }
                }
            }
            mem.sync();
        } catch (RuntimeException e) {
            out.values().forEach(DeviceTensor::close);
            throw e;
        }
        return managed(out);
    }

    private static DeviceTensor source(Row row, String name) {
        DeviceTensor t = row.cache().managed.get(name);
        if (t == null) throw new IllegalArgumentException("cache row for " + name + " is not in device memory");
        return t;
    }

    static KvCache empty(Map<String, OnnxTensor> tensors) {
        return new KvCache(tensors, null, List.copyOf(tensors.values()), Map.of());
    }

    static KvCache fromResult(OrtSession.Result result, int layers) {
        Map<String, OnnxTensor> m = new LinkedHashMap<>();
        for (int l = 0; l < layers; l++) {
            m.put(GraphNames.pastKey(l), tensor(result, GraphNames.presentKey(l)));
            m.put(GraphNames.pastValue(l), tensor(result, GraphNames.presentValue(l)));
        }
        return new KvCache(m, result, List.of(), Map.of());
    }

    private static OnnxTensor tensor(OrtSession.Result r, String name) {
        OnnxValue v = r.get(name).orElseThrow(() -> new IllegalStateException("decoder output " + name + " is missing"));
        return (OnnxTensor) v;
    }

    /**
     * A cache whose row {@code r} holds {@code rows[r]}'s tokens right-aligned: its last
     * {@code tokens} positions; positions before them are zeros, to be masked by the caller. The
     * length is the largest {@code tokens}. The sources stay open (the caller closes them).
     */
    static KvCache compose(OrtEnvironment env, int layers, List<Row> rows) throws OrtException {
        if (rows.isEmpty()) throw new IllegalArgumentException("a cache needs at least one row");
        int total = rows.stream().mapToInt(Row::tokens).max().orElseThrow();
        Map<String, OnnxTensor> m = new LinkedHashMap<>();
        Map<String, FloatBuffer> buffers = new LinkedHashMap<>();
        try {
            for (int l = 0; l < layers; l++) {
                for (String name : List.of(GraphNames.pastKey(l), GraphNames.pastValue(l))) {
                    FloatBuffer data = composeOne(name, rows, total);
                    long[] shape = rows.getFirst().cache().pastInputs.get(name).getInfo().getShape();
                    buffers.put(name, data);
                    m.put(name, OnnxTensor.createTensor(env, data, new long[] {rows.size(), shape[1], total, shape[3]}));
                }
            }
        } catch (OrtException | RuntimeException e) {
            m.values().forEach(OnnxTensor::close);
            throw e;
        }
        return new KvCache(m, null, List.copyOf(m.values()), buffers);
    }

    private static FloatBuffer composeOne(String name, List<Row> rows, int total) {
        Map<KvCache, FloatBuffer> sources = new IdentityHashMap<>();
        long[] shape = rows.getFirst().cache().pastInputs.get(name).getInfo().getShape();
        int heads = (int) shape[1], headDim = (int) shape[3];
        FloatBuffer out = ByteBuffer.allocateDirect(Math.toIntExact(4L * rows.size() * heads * total * headDim))
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int r = 0; r < rows.size(); r++) {
            Row row = rows.get(r);
            OnnxTensor src = row.cache().pastInputs.get(name);
            int srcLength = (int) src.getInfo().getShape()[2];
            if (row.tokens() > srcLength || row.row() >= src.getInfo().getShape()[0]) {
                throw new IllegalArgumentException("row " + row.row() + " with " + row.tokens() + " tokens is not in a cache of shape "
                        + java.util.Arrays.toString(src.getInfo().getShape()));
            }
            FloatBuffer data = sources.computeIfAbsent(row.cache(), c -> c.floats(name));
            int n = row.tokens() * headDim;
            for (int h = 0; h < heads; h++) {
                int from = ((row.row() * heads + h) * srcLength + srcLength - row.tokens()) * headDim;
                int to = ((r * heads + h) * total + total - row.tokens()) * headDim;
                out.put(to, data, from, n);
            }
        }
        return out;
    }

    /** One input's data: the direct buffer of a composed cache, else a copy out of ONNX Runtime. */
    private FloatBuffer floats(String name) {
        FloatBuffer own = buffers.get(name);
        return own != null ? own : pastInputs.get(name).getFloatBuffer();
    }

    /** Tensors by past_key_values.* input name. */
    Map<String, OnnxTensor> pastInputs() { return pastInputs; }

    /** Rows (the batch dimension). */
    int rows() {
        if (!managed.isEmpty()) return (int) managed.values().iterator().next().shape()[0];
        return (int) pastInputs.values().iterator().next().getInfo().getShape()[0];
    }

    /** Positions per row. */
    public int length() {
        if (!managed.isEmpty()) return (int) managed.values().iterator().next().shape()[2];
        return (int) pastInputs.values().iterator().next().getInfo().getShape()[2];
    }

    @Override
    public void close() {
        owned.forEach(OnnxTensor::close);
        managed.values().forEach(DeviceTensor::close);
        if (owner != null) owner.close();
    }
}
