package dev.lorastream.engine.adapters;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.lorastream.engine.graph.GraphNames;
import dev.lorastream.engine.graph.Precision;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.runtime.DeviceMemory;
import dev.lorastream.engine.runtime.DeviceTensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The resident LoRA banks the decoder graph gathers from: for every projection, A' [slots,
 * layers, in, R] and B' [slots, layers, R, out], where slot 0 is all zeros (the plain backbone),
 * R is the bank's rank for that projection (smaller ranks are zero-padded, which leaves the
 * product unchanged), {@code A' = Aᵀ} and {@code B' = scaling · Bᵀ}.
 *
 * <p>The banks live in {@link DeviceMemory}: Java direct buffers that ONNX Runtime reads in place,
 * or device memory that stays on the GPU across runs. An adapter is first {@link #pack packed}
 * into one host image of a slot (in the bank's element type, page-locked on CUDA; kept while the
 * adapter is), so that {@link #write} puts it into a slot with one host-to-device copy per bank
 * tensor it reaches (a tensor whose rows are zero in the slot and in the adapter is skipped) and
 * touches no other slot: requests running on other slots are untouched.
 *
 * <p>Each projection's R starts at what the caller asks (the largest rank of the adapters it
 * expects) and grows, up to the bank's maximum rank, when an adapter of a larger rank is written
 * (the slots already written are re-laid, padded with zeros). Not thread-safe: write, clear and
 * grow between forward passes; {@link #pack} may run on any thread.
 */
public final class AdapterBank implements AutoCloseable {
    public static final int BASE_SLOT = 0;

    /** Ranks of every projection and the element type: the shape of one slot. */
    public record Layout(Map<Projection, Integer> ranks, Precision precision) {
        public Layout {
            ranks = Collections.unmodifiableMap(new EnumMap<>(ranks));
        }

        public int rank(Projection p) { return ranks.get(p); }

        long elementsA(ModelConfig c, Projection p) { return (long) c.numHiddenLayers() * p.inFeatures(c) * rank(p); }

        long elementsB(ModelConfig c, Projection p) { return (long) c.numHiddenLayers() * rank(p) * p.outFeatures(c); }

        /** Bytes of one slot. */
        public long slotBytes(ModelConfig c) {
            long n = 0;
            for (Projection p : Projection.values()) n += elementsA(c, p) + elementsB(c, p);
            return n * precision.bytes();
        }

        /** This layout with each projection's rank raised to what the adapter uses. */
        Layout grownFor(LoraAdapter a) {
            Map<Projection, Integer> r = new EnumMap<>(ranks);
            for (Projection p : Projection.values()) r.merge(p, a.maxRank(p), Math::max);
            return r.equals(ranks) ? this : new Layout(r, precision);
        }
    }

    /**
     * One adapter as one slot of a bank of {@code layout}: every projection's A' then B', back to
     * back, in host memory; {@code nonZero[2p]} / {@code [2p+1]}: whether projection p's A' / B' has any weight.
     */
    public record Packed(Layout layout, MemorySegment image, boolean[] nonZero) {
        public long bytes() { return image.byteSize(); }
    }

    /** Writes into slots so far: how many, their time (the copies included, until they completed) and bytes. */
    public record WriteStats(long writes, long nanos, long bytes) {}

    private final ModelConfig config;
    private final DeviceMemory mem;
    private final int maxRank;
    private final String[] slotIds;
    private volatile Layout layout;
    private final Map<Projection, DeviceTensor> aBanks = new EnumMap<>(Projection.class);
    private final Map<Projection, DeviceTensor> bBanks = new EnumMap<>(Projection.class);
    private volatile Map<String, OnnxTensor> tensors = Map.of();
    /** Packed images by adapter (identity of its weights), dropped with the adapter. */
    private final Map<LoraAdapter, Packed> packed = Collections.synchronizedMap(new WeakHashMap<>());
    private long bytes;
    private long writes, writeNanos, writtenBytes;
    /** Per slot and bank tensor (2p: A' of projection p, 2p+1: B'): whether the slot's rows may be non-zero. */
    private final boolean[][] dirty;
    private boolean closed;

    private AdapterBank(ModelConfig config, DeviceMemory mem, int slotCount, Layout layout, int maxRank) {
        this.config = config;
        this.mem = mem;
        this.slotIds = new String[slotCount];
        this.dirty = new boolean[slotCount][2 * Projection.values().length];
        this.layout = layout;
        this.maxRank = maxRank;
    }

    /** Bytes of one float32 slot: A' and B' of every projection of every layer at {@code rank}. */
    public static long slotBytes(ModelConfig c, int rank) {
        return slotBytes(c, rank, Precision.FP32);
    }

    /** Bytes of one slot in {@code precision}: A' and B' of every projection of every layer at {@code rank}. */
    public static long slotBytes(ModelConfig c, int rank, Precision precision) {
        return new Layout(uniform(rank), precision).slotBytes(c);
    }

    private static Map<Projection, Integer> uniform(int rank) {
        Map<Projection, Integer> ranks = new EnumMap<>(Projection.class);
        for (Projection p : Projection.values()) ranks.put(p, rank);
        return ranks;
    }

    /** A float32 bank of zeros in Java buffers: slot 0 and {@code adapterSlots} empty slots, every projection at rank {@code rank}. */
    public static AdapterBank allocate(OrtEnvironment env, ModelConfig c, int adapterSlots, int rank) throws OrtException {
        if (rank < 1) throw new IllegalArgumentException("bank rank must be at least 1, got " + rank);
        return allocate(DeviceMemory.host(env), c, adapterSlots, uniform(rank), rank, Precision.FP32);
    }

    /** Slots 1..n hold the adapters in list order, each projection at the largest rank any of them uses (float32, Java buffers). */
    public static AdapterBank build(OrtEnvironment env, ModelConfig c, List<LoraAdapter> adapters) throws OrtException {
        Map<Projection, Integer> ranks = new EnumMap<>(Projection.class);
        for (Projection p : Projection.values()) ranks.put(p, Math.max(1, adapters.stream().mapToInt(a -> a.maxRank(p)).max().orElse(0)));
        int max = ranks.values().stream().mapToInt(Integer::intValue).max().orElse(1);
        AdapterBank bank = allocate(DeviceMemory.host(env), c, adapters.size(), ranks, max, Precision.FP32);
        try {
            for (int i = 0; i < adapters.size(); i++) bank.write(i + 1, adapters.get(i));
        } catch (RuntimeException e) {
            bank.close();
            throw e;
        }
        return bank;
    }

    /**
     * A bank of zeros in {@code mem}: slot 0 and {@code adapterSlots} empty slots.
     *
     * @param ranks   each projection's starting rank (at least 1)
     * @param maxRank the largest rank a projection may grow to
     */
    public static AdapterBank allocate(DeviceMemory mem, ModelConfig c, int adapterSlots, Map<Projection, Integer> ranks, int maxRank, Precision precision) {
        if (adapterSlots < 0) throw new IllegalArgumentException("adapter slots must not be negative, got " + adapterSlots);
        for (Projection p : Projection.values()) {
            int r = ranks.getOrDefault(p, 0);
            if (r < 1) throw new IllegalArgumentException("bank rank of " + p.moduleName() + " must be at least 1, got " + r);
            if (r > maxRank) throw new IllegalArgumentException("bank rank of " + p.moduleName() + " (" + r + ") exceeds the maximum rank " + maxRank);
        }
        AdapterBank bank = new AdapterBank(c, mem, adapterSlots + 1, new Layout(ranks, precision), maxRank);
        try {
            for (Projection p : Projection.values()) bank.allocateProjection(p, bank.layout.rank(p));
            mem.sync();
        } catch (RuntimeException e) {
            bank.close();
            throw e;
        }
        bank.publish();
        return bank;
    }

    private void allocateProjection(Projection p, int rank) {
        int layers = config.numHiddenLayers(), slots = slotIds.length;
        Precision t = layout.precision();
        try {
            aBanks.put(p, mem.zeros(t, slots, layers, p.inFeatures(config), rank));
            bBanks.put(p, mem.zeros(t, slots, layers, rank, p.outFeatures(config)));
        } catch (IllegalStateException e) {
            throw new IllegalStateException("cannot allocate the LoRA bank of " + p.moduleName() + " (" + slots + " slots, rank " + rank + "): "
                    + e.getMessage() + "; lower adapter.cache.device.bytes or adapter.max.rank", e);
        }
    }

    private void publish() {
        Map<String, OnnxTensor> m = new LinkedHashMap<>();
        long b = 0;
        for (Projection p : Projection.values()) {
            m.put(GraphNames.loraA(p), aBanks.get(p).tensor());
            m.put(GraphNames.loraB(p), bBanks.get(p).tensor());
            b += aBanks.get(p).bytes() + bBanks.get(p).bytes();
        }
        tensors = Collections.unmodifiableMap(m);
        bytes = b;
    }

    private void checkRanks(LoraAdapter adapter) {
        for (Projection p : Projection.values()) {
            if (adapter.maxRank(p) > maxRank) {
                throw new IllegalArgumentException("adapter '" + adapter.id() + "' uses rank " + adapter.maxRank(p) + " on " + p.moduleName()
                        + "; the bank holds at most " + maxRank);
            }
        }
    }

    /**
     * The adapter laid out as one slot of this bank (grown for it where its ranks exceed the
     * bank's), made once and kept while the adapter is reachable. Thread-safe: adapter loaders
     * call it so that a later {@link #write} is only copies.
     */
    public Packed pack(LoraAdapter adapter) {
        checkRanks(adapter);
        Layout target = layout.grownFor(adapter);
        Packed p = packed.get(adapter);
        if (p != null && p.layout().equals(target)) return p;
        p = packFor(target, adapter);
        packed.put(adapter, p);
        return p;
    }

    private Packed packFor(Layout lay, LoraAdapter a) {
        MemorySegment img = mem.hostBuffer(lay.slotBytes(config));
        img.fill((byte) 0);
        boolean half = lay.precision() == Precision.FP16;
        int eb = lay.precision().bytes();
        long off = 0;
        boolean[] nonZero = new boolean[2 * Projection.values().length];
        for (Projection p : Projection.values()) {
            int rank = lay.rank(p), in = p.inFeatures(config), out = p.outFeatures(config);
            Map<Integer, LoraWeights> byLayer = a.weights().getOrDefault(p, Map.of());
            nonZero[2 * p.ordinal()] = nonZero[2 * p.ordinal() + 1] = !byLayer.isEmpty();
            for (Map.Entry<Integer, LoraWeights> e : byLayer.entrySet()) {
                LoraWeights w = e.getValue();
                long base = off + (long) e.getKey() * in * rank * eb;
                float[] av = w.a();
                for (int r = 0; r < w.rank(); r++) {
                    for (int i = 0; i < in; i++) put(img, base + ((long) i * rank + r) * eb, av[r * in + i], half);
                }
            }
            off += lay.elementsA(config, p) * eb;
            for (Map.Entry<Integer, LoraWeights> e : byLayer.entrySet()) {
                LoraWeights w = e.getValue();
                long base = off + (long) e.getKey() * rank * out * eb;
                float[] bv = w.b();
                float s = w.scaling();
                for (int r = 0; r < w.rank(); r++) {
                    for (int o = 0; o < out; o++) put(img, base + ((long) r * out + o) * eb, s * bv[o * w.rank() + r], half);
                }
            }
            off += lay.elementsB(config, p) * eb;
        }
        return new Packed(lay, img, nonZero);
    }

    private static void put(MemorySegment img, long pos, float v, boolean half) {
        if (half) img.set(ValueLayout.JAVA_SHORT_UNALIGNED, pos, Float.floatToFloat16(v));
        else img.set(ValueLayout.JAVA_FLOAT_UNALIGNED, pos, v);
    }

    /**
     * Puts an adapter into slot {@code slot} (1..slotCount-1): copies its packed image into that
     * slot's rows of every projection's A' and B' (zeros where the adapter does not reach), nothing
     * else, and waits until the copies are done.
     *
     * @throws IllegalArgumentException when the slot does not exist or the adapter's rank exceeds the bank's maximum
     */
    public void write(int slot, LoraAdapter adapter) {
        checkSlot(slot);
        checkRanks(adapter);
        long t0 = System.nanoTime();
        Layout target = layout.grownFor(adapter);
        if (!target.equals(layout)) grow(target);
        Packed p = pack(adapter);
        int eb = layout.precision().bytes();
        long off = 0, copied = 0;
        for (Projection proj : Projection.values()) {
            long na = layout.elementsA(config, proj) * eb, nb = layout.elementsB(config, proj) * eb;
            copied += copyPiece(slot, 2 * proj.ordinal(), aBanks.get(proj), na, p, off);
            off += na;
            copied += copyPiece(slot, 2 * proj.ordinal() + 1, bBanks.get(proj), nb, p, off);
            off += nb;
        }
        mem.sync();
        slotIds[slot] = adapter.id();
        writes++;
        writeNanos += System.nanoTime() - t0;
        writtenBytes += copied;
    }

    /** Copies one tensor's rows of the slot unless they are zero there and in the image; returns the bytes copied. */
    private long copyPiece(int slot, int piece, DeviceTensor bank, long bytes, Packed p, long imageOffset) {
        if (!p.nonZero()[piece] && !dirty[slot][piece]) return 0;
        mem.copy(bank.data(), slot * bytes, p.image(), imageOffset, bytes);
        dirty[slot][piece] = p.nonZero()[piece];
        return bytes;
    }

    /** Zeroes one slot's rows; requests on it then run as the plain backbone. */
    public void clear(int slot) {
        checkSlot(slot);
        int eb = layout.precision().bytes();
        for (Projection p : Projection.values()) {
            long na = layout.elementsA(config, p) * eb, nb = layout.elementsB(config, p) * eb;
            mem.zero(aBanks.get(p).data(), slot * na, na);
            mem.zero(bBanks.get(p).data(), slot * nb, nb);
        }
        mem.sync();
        java.util.Arrays.fill(dirty[slot], false);
        slotIds[slot] = null;
    }

    private void checkSlot(int slot) {
        if (slot <= BASE_SLOT || slot >= slotIds.length) throw new IllegalArgumentException("slot " + slot + " is not an adapter slot (1.." + (slotIds.length - 1) + ")");
    }

    /** Re-lays every slot at the larger ranks of {@code target} (new tensors, old rows copied, padding zero). */
    private void grow(Layout target) {
        int layers = config.numHiddenLayers(), slots = slotIds.length, eb = target.precision().bytes();
        Map<Projection, DeviceTensor> oldA = new EnumMap<>(aBanks), oldB = new EnumMap<>(bBanks);
        List<DeviceTensor> made = new ArrayList<>();
        try {
            for (Projection p : Projection.values()) {
                int from = layout.rank(p), to = target.rank(p);
                if (from == to) continue;
                int in = p.inFeatures(config), out = p.outFeatures(config);
                DeviceTensor a = mem.zeros(target.precision(), slots, layers, in, to);
                made.add(a);
                DeviceTensor b = mem.zeros(target.precision(), slots, layers, to, out);
                made.add(b);
                // A' [slots*layers*in rows of R]: each row widens from `from` to `to` elements
                mem.copy2D(a.data(), 0, (long) to * eb, oldA.get(p).data(), 0, (long) from * eb, (long) from * eb, (long) slots * layers * in);
                // B' [slots*layers blocks of R rows of out]: the first `from` rows of each block
                mem.copy2D(b.data(), 0, (long) to * out * eb, oldB.get(p).data(), 0, (long) from * out * eb, (long) from * out * eb, (long) slots * layers);
                aBanks.put(p, a);
                bBanks.put(p, b);
            }
            mem.sync();
        } catch (RuntimeException e) {
            made.forEach(DeviceTensor::close);
            aBanks.putAll(oldA);
            bBanks.putAll(oldB);
            throw new IllegalStateException("cannot grow the LoRA bank to ranks " + target.ranks() + ": " + e.getMessage(), e);
        }
        for (Projection p : Projection.values()) {
            if (aBanks.get(p) != oldA.get(p)) oldA.get(p).close();
            if (bBanks.get(p) != oldB.get(p)) oldB.get(p).close();
        }
        layout = target;
        publish();
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
    public int rank(Projection p) { return layout.rank(p); }

    /** The current ranks and element type. */
    public Layout layout() { return layout; }

    /** The largest rank a projection may grow to. */
    public int maxRank() { return maxRank; }

    /** Where the bank lives. */
    public DeviceMemory memory() { return mem; }

    /** Bank tensors by graph input name (replaced when the bank grows: read it for every run). */
    public Map<String, OnnxTensor> inputs() { return tensors; }

    public long sizeBytes() { return bytes; }

    public WriteStats writeStats() { return new WriteStats(writes, writeNanos, writtenBytes); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        aBanks.values().forEach(DeviceTensor::close);
        bBanks.values().forEach(DeviceTensor::close);
        packed.clear();
    }
}
