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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The resident LoRA banks the decoder graph gathers from: for every projection, A' [slots,
 * layers, in, R] and B' [slots, layers, R, out], where slot 0 is all zeros (the plain backbone),
 * R is the bank's rank for that projection (smaller ranks are zero-padded, which leaves the
 * product unchanged), {@code A' = Aᵀ} and {@code B' = scaling · Bᵀ}.
 *
 * <p>The tensors wrap direct buffers that ONNX Runtime reads in place, so {@link #write} puts an
 * adapter into one slot by rewriting only that slot's rows; the other slots, and requests
 * running on them, are untouched. Not thread-safe: write between forward passes.
 */
public final class AdapterBank implements AutoCloseable {
    public static final int BASE_SLOT = 0;
    private static final float[] ZEROS = new float[1 << 14];

    private final ModelConfig config;
    private final String[] slotIds;
    private final Map<Projection, Integer> ranks;
    private final Map<Projection, FloatBuffer> aBanks;
    private final Map<Projection, FloatBuffer> bBanks;
    private final Map<String, OnnxTensor> tensors;
    private final long bytes;

    private AdapterBank(ModelConfig config, int slotCount, Map<Projection, Integer> ranks, Map<Projection, FloatBuffer> aBanks,
                        Map<Projection, FloatBuffer> bBanks, Map<String, OnnxTensor> tensors, long bytes) {
        this.config = config;
        this.slotIds = new String[slotCount];
        this.ranks = ranks;
        this.aBanks = aBanks;
        this.bBanks = bBanks;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.bytes = bytes;
    }

    /** Bytes of one slot: A' and B' of every projection of every layer at {@code rank}. */
    public static long slotBytes(ModelConfig c, int rank) {
        long floats = 0;
        for (Projection p : Projection.values()) floats += (long) c.numHiddenLayers() * (p.inFeatures(c) + p.outFeatures(c)) * rank;
        return 4 * floats;
    }

    /** A bank of zeros: slot 0 and {@code adapterSlots} empty slots, every projection at rank {@code rank}. */
    public static AdapterBank allocate(OrtEnvironment env, ModelConfig c, int adapterSlots, int rank) throws OrtException {
        if (adapterSlots < 0) throw new IllegalArgumentException("adapter slots must not be negative, got " + adapterSlots);
        if (rank < 1) throw new IllegalArgumentException("bank rank must be at least 1, got " + rank);
        Map<Projection, Integer> ranks = new EnumMap<>(Projection.class);
        for (Projection p : Projection.values()) ranks.put(p, rank);
        return allocate(env, c, adapterSlots + 1, ranks);
    }

    /** Slots 1..n hold the adapters in list order, each projection at the largest rank any of them uses. */
    public static AdapterBank build(OrtEnvironment env, ModelConfig c, List<LoraAdapter> adapters) throws OrtException {
        Map<Projection, Integer> ranks = new EnumMap<>(Projection.class);
        for (Projection p : Projection.values()) ranks.put(p, Math.max(1, adapters.stream().mapToInt(a -> a.maxRank(p)).max().orElse(0)));
        AdapterBank bank = allocate(env, c, adapters.size() + 1, ranks);
        try {
            for (int i = 0; i < adapters.size(); i++) bank.write(i + 1, adapters.get(i));
        } catch (RuntimeException e) {
            bank.close();
            throw e;
        }
        return bank;
    }

    private static AdapterBank allocate(OrtEnvironment env, ModelConfig c, int slotCount, Map<Projection, Integer> ranks) throws OrtException {
        int layers = c.numHiddenLayers();
        Map<Projection, FloatBuffer> aBanks = new EnumMap<>(Projection.class), bBanks = new EnumMap<>(Projection.class);
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        long bytes = 0;
        try {
            for (Projection p : Projection.values()) {
                int rank = ranks.get(p), in = p.inFeatures(c), out = p.outFeatures(c);
                FloatBuffer a = direct(Math.multiplyExact((long) slotCount * layers * in, rank));
                FloatBuffer b = direct(Math.multiplyExact((long) slotCount * layers * rank, out));
                aBanks.put(p, a);
                bBanks.put(p, b);
                tensors.put(GraphNames.loraA(p), OnnxTensor.createTensor(env, a, new long[] {slotCount, layers, in, rank}));
                tensors.put(GraphNames.loraB(p), OnnxTensor.createTensor(env, b, new long[] {slotCount, layers, rank, out}));
                bytes += 4L * (a.capacity() + b.capacity());
            }
        } catch (OrtException | RuntimeException e) {
            tensors.values().forEach(OnnxTensor::close);
            throw e;
        }
        return new AdapterBank(c, slotCount, Collections.unmodifiableMap(ranks), aBanks, bBanks, tensors, bytes);
    }

    private static FloatBuffer direct(long floats) {
        if (floats * 4 > Integer.MAX_VALUE) {
            throw new IllegalStateException("one LoRA bank tensor of " + floats * 4 + " bytes exceeds 2 GiB; lower adapter.cache.device.bytes or adapter.max.rank");
        }
        return ByteBuffer.allocateDirect((int) floats * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /**
     * Puts an adapter into slot {@code slot} (1..slotCount-1): rewrites that slot's rows of every
     * projection's A' and B' (zeros where the adapter does not reach), nothing else.
     *
     * @throws IllegalArgumentException when the slot does not exist or the adapter's rank exceeds the bank's
     */
    public void write(int slot, LoraAdapter adapter) {
        if (slot <= BASE_SLOT || slot >= slotIds.length) throw new IllegalArgumentException("slot " + slot + " is not an adapter slot (1.." + (slotIds.length - 1) + ")");
        for (Projection p : Projection.values()) {
            if (adapter.maxRank(p) > ranks.get(p)) {
                throw new IllegalArgumentException("adapter '" + adapter.id() + "' uses rank " + adapter.maxRank(p) + " on " + p.moduleName()
                        + "; the bank holds at most " + ranks.get(p));
            }
        }
        int layers = config.numHiddenLayers();
        for (Projection p : Projection.values()) {
            int rank = ranks.get(p), in = p.inFeatures(config), out = p.outFeatures(config);
            FloatBuffer a = aBanks.get(p), b = bBanks.get(p);
            long aSlot = (long) slot * layers * in * rank, bSlot = (long) slot * layers * rank * out;
            zero(a, aSlot, (long) layers * in * rank);
            zero(b, bSlot, (long) layers * rank * out);
            for (Map.Entry<Integer, LoraWeights> e : adapter.weights().getOrDefault(p, Map.of()).entrySet()) {
                int l = e.getKey();
                LoraWeights w = e.getValue();
                int aBase = (int) (aSlot + (long) l * in * rank);
                for (int r = 0; r < w.rank(); r++) {
                    for (int i = 0; i < in; i++) a.put(aBase + i * rank + r, w.a()[r * in + i]);
                }
                int bBase = (int) (bSlot + (long) l * rank * out);
                for (int r = 0; r < w.rank(); r++) {
                    for (int o = 0; o < out; o++) b.put(bBase + r * out + o, w.scaling() * w.b()[o * w.rank() + r]);
                }
            }
        }
        slotIds[slot] = adapter.id();
    }

    /** Zeroes one slot's rows; requests on it then run as the plain backbone. */
    public void clear(int slot) {
        if (slot <= BASE_SLOT || slot >= slotIds.length) throw new IllegalArgumentException("slot " + slot + " is not an adapter slot (1.." + (slotIds.length - 1) + ")");
        int layers = config.numHiddenLayers();
        for (Projection p : Projection.values()) {
            int rank = ranks.get(p), in = p.inFeatures(config), out = p.outFeatures(config);
            zero(aBanks.get(p), (long) slot * layers * in * rank, (long) layers * in * rank);
            zero(bBanks.get(p), (long) slot * layers * rank * out, (long) layers * rank * out);
        }
        slotIds[slot] = null;
    }

    private static void zero(FloatBuffer buf, long from, long count) {
        for (long done = 0; done < count; done += ZEROS.length) {
            int n = (int) Math.min(ZEROS.length, count - done);
            buf.put((int) (from + done), ZEROS, 0, n);
        }
    }

    /** The slot of an adapter; {@link #BASE_SLOT} for null (the plain backbone). */
    public int slotOf(String adapterId) {
        if (adapterId == null) return BASE_SLOT;
        for (int s = 1; s < slotIds.length; s++) if (adapterId.equals(slotIds[s])) return s;
        throw new IllegalArgumentException("adapter '" + adapterId + "' is not in the bank");
    }

    public boolean contains(String adapterId) {
        if (adapterId == null) return false;
        for (int s = 1; s < slotIds.length; s++) if (adapterId.equals(slotIds[s])) return true;
        return false;
    }

    /** Ids of the adapters in the bank, in slot order (empty slots skipped). */
    public List<String> adapterIds() {
        List<String> ids = new ArrayList<>();
        for (int s = 1; s < slotIds.length; s++) if (slotIds[s] != null) ids.add(slotIds[s]);
        return Collections.unmodifiableList(ids);
    }

    /** Slots including slot 0. */
    public int slotCount() { return slotIds.length; }

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
