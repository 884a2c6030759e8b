package dev.lorastream.worker.engine.lora;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.lorastream.worker.engine.graph.GraphNames;
import dev.lorastream.worker.engine.model.ModelConfig;
import dev.lorastream.worker.engine.model.Projection;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The resident LoRA banks the decoder graph gathers from: for every projection, A' [slots,
 * layers, in, R] and B' [slots, layers, R, out] as ONNX Runtime tensors, where slot 0 is all
 * zeros (the plain backbone), R is the largest rank any loaded adapter uses for that projection
 * (smaller ranks are zero-padded, which leaves the product unchanged), {@code A' = Aᵀ} and
 * {@code B' = scaling · Bᵀ}. Built once per set of adapters; immutable afterwards.
 */
public final class AdapterBank implements AutoCloseable {
    public static final int BASE_SLOT = 0;

    private final List<String> slotIds;
    private final Map<String, Integer> slots;
    private final Map<Projection, Integer> ranks;
    private final Map<String, OnnxTensor> tensors;
    private final long bytes;

    private AdapterBank(List<String> slotIds, Map<Projection, Integer> ranks, Map<String, OnnxTensor> tensors, long bytes) {
        this.slotIds = slotIds;
        Map<String, Integer> s = new HashMap<>();
        for (int i = 1; i < slotIds.size(); i++) s.put(slotIds.get(i), i);
        this.slots = Collections.unmodifiableMap(s);
        this.ranks = ranks;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.bytes = bytes;
    }

    /** Slots 1..n hold the adapters in list order. */
    public static AdapterBank build(OrtEnvironment env, ModelConfig c, List<LoraAdapter> adapters) throws OrtException {
        int slotCount = adapters.size() + 1, layers = c.numHiddenLayers();
        List<String> ids = new ArrayList<>();
        ids.add(null);
        adapters.forEach(a -> ids.add(a.id()));
        Map<Projection, Integer> ranks = new EnumMap<>(Projection.class);
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        long bytes = 0;
        try {
            for (Projection p : Projection.values()) {
                int rank = Math.max(1, adapters.stream().mapToInt(a -> a.maxRank(p)).max().orElse(0));
                ranks.put(p, rank);
                int in = p.inFeatures(c), out = p.outFeatures(c);
                FloatBuffer a = direct(Math.multiplyExact((long) slotCount * layers * in, rank));
                FloatBuffer b = direct(Math.multiplyExact((long) slotCount * layers * rank, out));
                for (int s = 1; s < slotCount; s++) {
                    for (Map.Entry<Integer, LoraWeights> e : adapters.get(s - 1).weights().getOrDefault(p, Map.of()).entrySet()) {
                        int l = e.getKey();
                        LoraWeights w = e.getValue();
                        long aBase = ((long) s * layers + l) * in * rank;
                        for (int r = 0; r < w.rank(); r++) {
                            for (int i = 0; i < in; i++) a.put((int) (aBase + (long) i * rank + r), w.a()[r * in + i]);
                        }
                        long bBase = ((long) s * layers + l) * rank * out;
                        for (int r = 0; r < w.rank(); r++) {
                            for (int o = 0; o < out; o++) b.put((int) (bBase + (long) r * out + o), w.scaling() * w.b()[o * w.rank() + r]);
                        }
                    }
                }
                tensors.put(GraphNames.loraA(p), OnnxTensor.createTensor(env, a, new long[] {slotCount, layers, in, rank}));
                tensors.put(GraphNames.loraB(p), OnnxTensor.createTensor(env, b, new long[] {slotCount, layers, rank, out}));
                bytes += 4L * (a.capacity() + b.capacity());
            }
        } catch (OrtException | RuntimeException e) {
            tensors.values().forEach(OnnxTensor::close);
            throw e;
        }
        return new AdapterBank(Collections.unmodifiableList(ids), Collections.unmodifiableMap(ranks), tensors, bytes);
    }

    private static FloatBuffer direct(long floats) {
        if (floats * 4 > Integer.MAX_VALUE) throw new IllegalStateException("a LoRA bank of " + floats * 4 + " bytes exceeds 2 GiB; load fewer adapters or lower ranks");
        return ByteBuffer.allocateDirect((int) floats * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** The slot of an adapter; {@link #BASE_SLOT} for null (the plain backbone). */
    public int slotOf(String adapterId) {
        if (adapterId == null) return BASE_SLOT;
        Integer s = slots.get(adapterId);
        if (s == null) throw new IllegalArgumentException("adapter '" + adapterId + "' is not in the bank");
        return s;
    }

    public boolean contains(String adapterId) { return adapterId != null && slots.containsKey(adapterId); }

    /** Adapter ids in slot order (slot 1 first). */
    public List<String> adapterIds() { return slotIds.subList(1, slotIds.size()); }

    public int slotCount() { return slotIds.size(); }

    /** The padded rank R of a projection's bank. */
    public int rank(Projection p) { return ranks.get(p); }

    /** Bank tensors by graph input name. */
    public Map<String, OnnxTensor> inputs() { return tensors; }

    public long sizeBytes() { return bytes; }

    @Override
    public void close() {
        tensors.values().forEach(OnnxTensor::close);
    }
}
