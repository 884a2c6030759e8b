package dev.lorastream.engine.adapters;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import dev.lorastream.engine.graph.BankLayout;
import dev.lorastream.engine.graph.GraphNames;
import dev.lorastream.engine.graph.LoraGroup;
import dev.lorastream.engine.graph.Precision;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.runtime.DeviceMemory;
import dev.lorastream.engine.runtime.DeviceTensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The resident LoRA bank the decoder graph gathers from, in a shape fixed when the engine opens
 * ({@link BankLayout}): per LoRA group ({@link LoraGroup}) one tensor {@code A' [layers, slots,
 * in, R]} and one {@code B' [layers, slots, R, out]}, whose per-layer slices are the graph's
 * {@code lora.<layer>.<group>.A/B} inputs (views, no copies). Slot 0 is all zeros (the plain
 * backbone); an adapter of rank r below the bank's R is zero-padded, which leaves the product
 * unchanged; {@code A' = Aᵀ}, {@code B' = scaling · Bᵀ}, a group's members side by side in A' and
 * block-diagonal in B'.
 *
 * <p>The shape never changes while serving (a captured CUDA graph holds its addresses): an
 * adapter that targets a projection without LoRA in this bank, or uses a larger rank than the
 * bank reserves for it, is refused with the reason ({@link #checkFits}). An adapter is first
 * {@link #pack packed} into a host image of one slot (page-locked on CUDA; kept while the adapter
 * is), so that {@link #write} is one strided host-to-device copy per bank tensor it reaches and
 * touches no other slot. Not thread-safe: write and clear between forward passes; {@link #pack}
 * may run on any thread.
 */
public final class AdapterBank implements AutoCloseable {
    public static final int BASE_SLOT = 0;

    /**
     * One adapter as one slot of this bank: per group, A' of every layer then B' of every layer,
     * back to back, in host memory; {@code nonZero[2g]} / {@code [2g+1]}: whether group g's A' / B' has weights.
     */
    public record Packed(MemorySegment image, boolean[] nonZero) {
        public long bytes() { return image.byteSize(); }
    }

    /** Writes into slots so far: how many, their time (the copies included, until they completed) and bytes. */
    public record WriteStats(long writes, long nanos, long bytes) {}

    private final ModelConfig config;
    private final DeviceMemory mem;
    private final BankLayout layout;
    private final List<LoraGroup> groups;
    private final String[] slotIds;
    private final Map<LoraGroup, DeviceTensor> aBanks = new EnumMap<>(LoraGroup.class);
    private final Map<LoraGroup, DeviceTensor> bBanks = new EnumMap<>(LoraGroup.class);
    private final List<DeviceTensor> views = new ArrayList<>();
    private Map<String, OnnxTensor> inputs = Map.of();
    /** Packed images by adapter (identity of its weights), dropped with the adapter. */
    private final Map<LoraAdapter, Packed> packed = Collections.synchronizedMap(new WeakHashMap<>());
    private long writes, writeNanos, writtenBytes;
    /** Per slot and bank tensor (2g: A' of group g, 2g+1: its B'): whether the slot's rows may be non-zero. */
    private final boolean[][] dirty;
    private boolean closed;

    private AdapterBank(ModelConfig config, DeviceMemory mem, BankLayout layout) {
        this.config = config;
        this.mem = mem;
        this.layout = layout;
        this.groups = List.copyOf(layout.groups());
        this.slotIds = new String[layout.slots()];
        this.dirty = new boolean[layout.slots()][2 * LoraGroup.values().length];
    }

    /**
     * The adapter cache's unit of device capacity: the float32 weights of one adapter at
     * {@code rank} on every projection of every layer ({@code Σ (in + out) · rank}). The bank's
     * real bytes per slot follow its {@link BankLayout} (its precision, the projections it covers,
     * and the zeros of block-diagonal group B's): {@link BankLayout#slotBytes}.
     */
    public static long slotBytes(ModelConfig c, int rank) {
        long n = 0;
        for (Projection p : Projection.values()) n += (long) (p.inFeatures(c) + p.outFeatures(c)) * rank;
        return n * c.numHiddenLayers() * Precision.FP32.bytes();
    }

    /** A bank of zeros in {@code mem}, shaped by {@code layout}. */
    public static AdapterBank allocate(DeviceMemory mem, ModelConfig c, BankLayout layout) {
        AdapterBank bank = new AdapterBank(c, mem, layout);
        try {
            bank.allocateTensors();
            mem.sync();
        } catch (RuntimeException e) {
            bank.close();
            throw e;
        }
        return bank;
    }

    /** A float32 bank in Java buffers whose slots 1..n hold the adapters in list order, each projection at the largest rank any of them uses. */
    public static AdapterBank build(OrtEnvironment env, ModelConfig c, List<LoraAdapter> adapters) {
        Map<Projection, Integer> ranks = new EnumMap<>(Projection.class);
        for (Projection p : Projection.values()) {
            int r = adapters.stream().mapToInt(a -> a.maxRank(p)).max().orElse(0);
            if (r > 0) ranks.put(p, r);
        }
        AdapterBank bank = allocate(DeviceMemory.host(env), c, new BankLayout(ranks, adapters.size() + 1, Precision.FP32));
        try {
            for (int i = 0; i < adapters.size(); i++) bank.write(i + 1, adapters.get(i));
        } catch (RuntimeException e) {
            bank.close();
            throw e;
        }
        return bank;
    }

    private void allocateTensors() {
        int layers = config.numHiddenLayers(), slots = layout.slots();
        Precision t = layout.precision();
        Map<String, OnnxTensor> m = new LinkedHashMap<>();
        for (LoraGroup g : groups) {
            int in = g.inFeatures(config), out = g.outFeatures(config), r = layout.rank(g);
            try {
                aBanks.put(g, mem.zeros(t, layers, slots, in, r));
                bBanks.put(g, mem.zeros(t, layers, slots, r, out));
            } catch (IllegalStateException e) {
                throw new IllegalStateException("cannot allocate the LoRA bank of " + g.key() + " (" + slots + " slots, rank " + r + "): "
                        + e.getMessage() + "; lower adapter.cache.device.bytes or adapter.max.rank", e);
            }
            long aLayer = (long) slots * in * r * t.bytes(), bLayer = (long) slots * r * out * t.bytes();
            for (int l = 0; l < layers; l++) {
                DeviceTensor a = mem.view(aBanks.get(g), l * aLayer, slots, in, r);
                DeviceTensor b = mem.view(bBanks.get(g), l * bLayer, slots, r, out);
                views.add(a);
                views.add(b);
                m.put(GraphNames.loraA(l, g), a.tensor());
                m.put(GraphNames.loraB(l, g), b.tensor());
            }
        }
        inputs = Collections.unmodifiableMap(m);
    }

    /**
     * Whether the adapter fits this bank's fixed shape.
     *
     * @throws IllegalArgumentException naming the projection and the reason when it does not
     */
    public void checkFits(LoraAdapter adapter) {
        for (Projection p : adapter.targets()) {
            int r = adapter.maxRank(p);
            if (r == 0) continue;
            if (!layout.covers(p)) {
                throw new IllegalArgumentException("adapter '" + adapter.id() + "' targets " + p.moduleName() + ", which this engine has no LoRA for "
                        + "(its bank, sized when it opened from the configuration and the adapters found, covers " + layout.describeRanks()
                        + "); restart the worker with such adapters in the store, or set the bank's targets");
            }
            if (r > layout.rank(p)) {
                throw new IllegalArgumentException("adapter '" + adapter.id() + "' uses rank " + r + " on " + p.moduleName() + "; this engine's bank holds at most rank "
                        + layout.rank(p) + " there (sized when it opened from the configuration and the adapters found: " + layout.describeRanks() + ")");
            }
        }
    }

    /**
     * The adapter laid out as one slot of this bank, made once and kept while the adapter is
     * reachable. Thread-safe: adapter loaders call it so that a later {@link #write} is only copies.
     *
     * @throws IllegalArgumentException when the adapter does not fit the bank ({@link #checkFits})
     */
    public Packed pack(LoraAdapter adapter) {
        checkFits(adapter);
        Packed p = packed.get(adapter);
        if (p != null) return p;
        p = packImage(adapter);
        packed.put(adapter, p);
        return p;
    }

    private Packed packImage(LoraAdapter a) {
        MemorySegment img = mem.hostBuffer(layout.slotBytes(config));
        img.fill((byte) 0);
        boolean half = layout.precision() == Precision.FP16;
        int eb = layout.precision().bytes(), layers = config.numHiddenLayers();
        long off = 0;
        boolean[] nonZero = new boolean[2 * LoraGroup.values().length];
        for (LoraGroup g : groups) {
            int in = g.inFeatures(config), out = g.outFeatures(config), rg = layout.rank(g);
            long aLayer = (long) in * rg, bLayer = (long) rg * out;
            for (Projection p : g.members()) {
                Map<Integer, LoraWeights> byLayer = a.weights().getOrDefault(p, Map.of());
                if (byLayer.isEmpty()) continue;
                nonZero[2 * g.ordinal()] = nonZero[2 * g.ordinal() + 1] = true;
                int rOff = layout.rankOffset(p), oOff = g.outOffset(config, p), po = p.outFeatures(config);
                for (Map.Entry<Integer, LoraWeights> e : byLayer.entrySet()) {
                    LoraWeights w = e.getValue();
                    long aBase = off + e.getKey() * aLayer * eb;
                    long bBase = off + layers * aLayer * eb + e.getKey() * bLayer * eb;
                    float[] av = w.a(), bv = w.b();
                    float s = w.scaling();
                    for (int r = 0; r < w.rank(); r++) {
                        for (int i = 0; i < in; i++) put(img, aBase + ((long) i * rg + rOff + r) * eb, av[r * in + i], half);
                        for (int o = 0; o < po; o++) put(img, bBase + ((long) (rOff + r) * out + oOff + o) * eb, s * bv[o * w.rank() + r], half);
                    }
                }
            }
            off += (long) layers * (aLayer + bLayer) * eb;
        }
        return new Packed(img, nonZero);
    }

    private static void put(MemorySegment img, long pos, float v, boolean half) {
        if (half) img.set(ValueLayout.JAVA_SHORT_UNALIGNED, pos, Float.floatToFloat16(v));
        else img.set(ValueLayout.JAVA_FLOAT_UNALIGNED, pos, v);
    }

    /**
     * Puts an adapter into slot {@code slot} (1..slotCount-1): copies its packed image into that
     * slot's rows of every group's A' and B' of every layer (zeros where the adapter does not
     * reach), nothing else, and waits until the copies are done.
     *
     * @throws IllegalArgumentException when the slot does not exist or the adapter does not fit the bank
     */
    public void write(int slot, LoraAdapter adapter) {
        checkSlot(slot);
        long t0 = System.nanoTime();
        Packed p = pack(adapter);
        int eb = layout.precision().bytes(), layers = config.numHiddenLayers(), slots = layout.slots();
        long off = 0, copied = 0;
        for (LoraGroup g : groups) {
            long a = layout.elementsA(config, g) * eb, b = layout.elementsB(config, g) * eb;
            copied += copyPiece(slot, 2 * g.ordinal(), aBanks.get(g), a, p, off, layers, slots);
            off += layers * a;
            copied += copyPiece(slot, 2 * g.ordinal() + 1, bBanks.get(g), b, p, off, layers, slots);
            off += layers * b;
        }
        mem.sync();
        slotIds[slot] = adapter.id();
        long nanos = System.nanoTime() - t0;
        synchronized (this) { // read from other threads by writeStats
            writes++;
            writeNanos += nanos;
            writtenBytes += copied;
        }
    }

    /** Copies one tensor's rows of the slot, every layer (one strided copy), unless they are zero there and in the image; returns the bytes copied. */
    private long copyPiece(int slot, int piece, DeviceTensor bank, long perLayer, Packed p, long imageOffset, int layers, int slots) {
        if (!p.nonZero()[piece] && !dirty[slot][piece]) return 0;
        mem.copy2D(bank.data(), slot * perLayer, slots * perLayer, p.image(), imageOffset, perLayer, perLayer, layers);
        dirty[slot][piece] = p.nonZero()[piece];
        return perLayer * layers;
    }

    /** Zeroes one slot's rows; requests on it then run as the plain backbone. */
    public void clear(int slot) {
        checkSlot(slot);
        int eb = layout.precision().bytes(), layers = config.numHiddenLayers(), slots = layout.slots();
        for (LoraGroup g : groups) {
            long a = layout.elementsA(config, g) * eb, b = layout.elementsB(config, g) * eb;
            for (int l = 0; l < layers; l++) {
                mem.zero(aBanks.get(g).data(), (l * (long) slots + slot) * a, a);
                mem.zero(bBanks.get(g).data(), (l * (long) slots + slot) * b, b);
            }
        }
        mem.sync();
        Arrays.fill(dirty[slot], false);
        slotIds[slot] = null;
    }

    private void checkSlot(int slot) {
        if (slot <= BASE_SLOT || slot >= slotIds.length) throw new IllegalArgumentException("slot " + slot + " is not an adapter slot (1.." + (slotIds.length - 1) + ")");
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

    /** The rank the bank reserves for a projection, 0 when it has no LoRA. */
    public int rank(Projection p) { return layout.rank(p); }

    /** The fixed shape. */
    public BankLayout layout() { return layout; }

    /** Where the bank lives. */
    public DeviceMemory memory() { return mem; }

    /** Per-layer bank tensors by graph input name (fixed for the bank's life: a captured graph may hold their addresses). */
    public Map<String, OnnxTensor> inputs() { return inputs; }

    public long sizeBytes() { return layout.bytes(config); }

    public synchronized WriteStats writeStats() { return new WriteStats(writes, writeNanos, writtenBytes); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        views.forEach(DeviceTensor::close);
        aBanks.values().forEach(DeviceTensor::close);
        bBanks.values().forEach(DeviceTensor::close);
        packed.clear();
    }
}
