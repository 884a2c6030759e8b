package dev.lorastream.engine.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.lorastream.engine.graph.GraphNames;
import dev.lorastream.engine.model.ModelConfig;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Forward passes of the reference graph ({@code DecoderGraph}): the KV cache grows by Concat, so
 * the batch's cache is one tensor per layer with every row's tokens right-aligned, positions
 * before them masked. While the batch does not change, each step's present tensors are fed back as
 * they are. When rows join, the staying rows and the joiners' prefill rows are copied into a new
 * cache of the longest length ({@link KvCache#compose}); a row that leaves stays behind as a
 * masked dead row until then, or until dead rows are as many as live ones.
 */
public final class ReferenceForwardPass implements ForwardPass {
    private static final Set<String> LOGITS_AND_TOKENS = Set.of(GraphNames.LOGITS, GraphNames.NEXT_TOKEN);
    private static final Set<String> TOKENS_ONLY = Set.of(GraphNames.NEXT_TOKEN);

    private final DecoderSession session;
    private final OrtEnvironment env;
    private final ModelConfig config;
    private final DeviceMemory memory;
    private final Supplier<Map<String, OnnxTensor>> bank;
    private final int maxRows;
    private final int capacity;
    private final int padId;

    /** Where a row's keys and values are now: row {@code index} of {@code cache}. */
    private record Location(KvCache cache, int index) {}

    private final Map<Integer, Location> where = new HashMap<>();
    /** The batch cache and the row id of each of its rows (-1: dead). */
    private KvCache batchCache;
    private int[] batchRows = new int[0];
    /** Caches of prefills whose rows have not joined the batch cache yet. */
    private final List<KvCache> joined = new ArrayList<>();
    private long composes, composeNanos;
    private Set<String> allOutputs, allButLogits;

    public ReferenceForwardPass(DecoderSession session, Supplier<Map<String, OnnxTensor>> bank, int maxRows, int capacity, int padId) {
        this.session = session;
        this.env = session.env();
        this.config = session.config();
        this.memory = session.memory();
        this.bank = bank;
        this.maxRows = maxRows;
        this.capacity = capacity;
        this.padId = padId;
    }

    @Override
    public int maxRows() { return maxRows; }

    @Override
    public int capacity() { return capacity; }

    @Override
    public String description() {
        return "reference graph (standard operators), KV cache grown by Concat and recomposed when rows join, in " + memory.kind() + " memory";
    }

    /** One pass over the joiners' left-padded prompts with an empty cache. */
    @Override
    public Output prefill(List<Prefill> rows, boolean withLogits) {
        withLogits |= ForwardPass.anySamples(rows); // the host samples
        int n = rows.size();
        int longest = rows.stream().mapToInt(r -> r.prompt().length).max().orElseThrow();
        long[][] ids = new long[n][longest], positions = new long[n][longest], mask = new long[n][longest];
        long[] slots = new long[n];
        for (int b = 0; b < n; b++) {
            int[] prompt = rows.get(b).prompt();
            int offset = longest - prompt.length;
            Arrays.fill(ids[b], padId);
            for (int k = 0; k < prompt.length; k++) {
                ids[b][offset + k] = prompt[k];
                positions[b][offset + k] = k;
                mask[b][offset + k] = 1;
            }
            slots[b] = rows.get(b).slot();
        }
        long t0 = System.nanoTime();
        Step step;
        try (KvCache empty = emptyCache(n)) {
            step = run(ids, positions, mask, slots, empty, withLogits);
        } catch (OrtException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        long ns = System.nanoTime() - t0;
        joined.add(step.cache());
        for (int b = 0; b < n; b++) where.put(rows.get(b).row(), new Location(step.cache(), b));
        return new Output(step.greedy(), ForwardPass.greedyChosen(rows), step.logits(), ns);
    }

    /**
     * One token for every asked row; dead rows of the batch cache get a pad token with nothing to
     * attend to, and their output is dropped.
     */
    @Override
    public Output decode(List<Decode> rows, boolean withLogits) {
        withLogits |= ForwardPass.anySamples(rows); // the host samples
        regroup(rows);
        int n = batchRows.length;
        int past = batchCache.length();
        long[][] ids = new long[n][1], positions = new long[n][1], mask = new long[n][past + 1];
        long[] slots = new long[n];
        Arrays.fill(ids, null);
        for (int b = 0; b < n; b++) {
            ids[b] = new long[] {padId};
            positions[b] = new long[1];
        }
        int[] order = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            Decode d = rows.get(i);
            int b = where.get(d.row()).index();
            order[i] = b;
            ids[b][0] = d.token();
            positions[b][0] = d.cached();
            Arrays.fill(mask[b], past - d.cached(), past + 1, 1L);
            slots[b] = d.slot();
        }
        long t0 = System.nanoTime();
        Step step;
        try {
            step = run(ids, positions, mask, slots, batchCache, withLogits);
        } catch (OrtException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        long ns = System.nanoTime() - t0;
        KvCache before = batchCache;
        batchCache = step.cache();
        for (Map.Entry<Integer, Location> e : where.entrySet()) {
            if (e.getValue().cache() == before) e.setValue(new Location(batchCache, e.getValue().index()));
        }
        before.close();
        long[] tokens = new long[rows.size()];
        float[][] logits = withLogits ? new float[rows.size()][] : null;
        for (int i = 0; i < rows.size(); i++) {
            tokens[i] = step.greedy()[order[i]];
            if (logits != null) logits[i] = step.logits()[order[i]];
        }
        return new Output(tokens, ForwardPass.greedyChosen(rows), logits, ns);
    }

    /**
     * Makes the batch cache hold every asked row: when some are still in a prefill's cache, or
     * dead rows are as many as live ones, composes a new cache of the asked rows in order.
     */
    private void regroup(List<Decode> rows) {
        boolean allInBatch = batchCache != null;
        for (Decode d : rows) allInBatch &= where.get(d.row()).cache() == batchCache;
        int dead = batchRows.length - rows.size();
        if (allInBatch && dead < rows.size()) return;
        KvCache composed = whole(rows);
        if (composed == null) {
            List<KvCache.Row> sources = new ArrayList<>(rows.size());
            for (Decode d : rows) {
                Location at = where.get(d.row());
                sources.add(new KvCache.Row(at.cache(), at.index(), d.cached()));
            }
            long t0 = System.nanoTime();
            try {
                composed = compose(sources);
            } catch (OrtException e) {
                throw new IllegalStateException("cannot rebuild the batch's KV cache: " + e.getMessage(), e);
            }
            composes++;
            composeNanos += System.nanoTime() - t0;
        }
        Map<Integer, Location> waiting = new HashMap<>(where); // rows of prefills that are not decoded yet keep their place
        for (Decode d : rows) waiting.remove(d.row());
        if (batchCache != null && batchCache != composed) batchCache.close();
        batchCache = composed;
        batchRows = new int[rows.size()];
        where.clear();
        for (int i = 0; i < rows.size(); i++) {
            batchRows[i] = rows.get(i).row();
            where.put(rows.get(i).row(), new Location(batchCache, i));
        }
        where.putAll(waiting);
        joined.removeIf(c -> {
            if (c == batchCache || where.values().stream().anyMatch(at -> at.cache() == c)) return c == batchCache;
            c.close();
            return true;
        });
    }

    /** The one cache that holds exactly the asked rows in their order and nothing else, if there is one (no copy needed). */
    private KvCache whole(List<Decode> rows) {
        Location first = where.get(rows.getFirst().row());
        if (first.cache() == batchCache) return null;
        for (int i = 0; i < rows.size(); i++) {
            Location at = where.get(rows.get(i).row());
            if (at.cache() != first.cache() || at.index() != i) return null;
        }
        int size = 0;
        for (Location at : where.values()) if (at.cache() == first.cache()) size++;
        return size == rows.size() && first.cache().rows() == rows.size() ? first.cache() : null;
    }

    @Override
    public void release(int row) {
        Location at = where.remove(row);
        if (at == null) return;
        for (int i = 0; i < batchRows.length; i++) if (batchRows[i] == row && at.cache() == batchCache) batchRows[i] = -1;
        if (where.isEmpty()) {
            if (batchCache != null) batchCache.close();
            batchCache = null;
            batchRows = new int[0];
            joined.forEach(KvCache::close);
            joined.clear();
        }
    }

    @Override
    public Housekeeping housekeeping() { return new Housekeeping(composes, composeNanos); }

    @Override
    public void close() {
        if (batchCache != null) batchCache.close();
        batchCache = null;
        joined.forEach(KvCache::close);
        joined.clear();
        where.clear();
    }

    /**
     * Logits of each row's last position (null when not asked for), each row's greedy next token,
     * and the cache extended by this step's tokens.
     */
    private record Step(float[][] logits, long[] greedy, KvCache cache) {}

    /** A cache with no tokens, for a prefill. */
    private KvCache emptyCache(int batch) throws OrtException {
        long[] shape = {batch, config.numKeyValueHeads(), 0, config.headDim()};
        if (memory.usesCApi()) {
            Map<String, DeviceTensor> d = new LinkedHashMap<>();
            try {
                for (int l = 0; l < config.numHiddenLayers(); l++) {
                    d.put(GraphNames.pastKey(l), memory.allocate(session.precision(), shape));
                    d.put(GraphNames.pastValue(l), memory.allocate(session.precision(), shape));
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

    /** One run; {@code attentionMask} covers the cached tokens and the new ones ([batch, past + seq]). The past cache stays open. */
    private Step run(long[][] inputIds, long[][] positionIds, long[][] attentionMask, long[] loraSlots, KvCache past, boolean withLogits) throws OrtException {
        int batch = inputIds.length;
        List<OnnxTensor> created = new ArrayList<>();
        try {
            Map<String, OnnxTensor> inputs = new HashMap<>(bank.get());
            inputs.putAll(past.pastInputs());
            inputs.put(GraphNames.INPUT_IDS, longs(inputIds, created));
            inputs.put(GraphNames.POSITION_IDS, longs(positionIds, created));
            inputs.put(GraphNames.ATTENTION_MASK, longs(attentionMask, created));
            OnnxTensor slots = OnnxTensor.createTensor(env, LongBuffer.wrap(loraSlots), new long[] {batch});
            created.add(slots);
            inputs.put(GraphNames.LORA_SLOT, slots);
            if (past.isManaged()) return runPinned(inputs, batch, past.length() + inputIds[0].length, withLogits);
            OrtSession.Result result = session.ortSession().run(inputs, withLogits ? allOutputs() : allButLogits());
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

    private Set<String> allOutputs() {
        if (allOutputs == null) allOutputs = Set.copyOf(session.ortSession().getOutputNames());
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

    /** The run with present.* written into fresh tensors of the session's memory; only the logits (or only the greedy tokens) come back. */
    private Step runPinned(Map<String, OnnxTensor> inputs, int batch, int total, boolean withLogits) throws OrtException {
        Map<String, DeviceTensor> presents = new LinkedHashMap<>();
        try {
            long[] shape = {batch, config.numKeyValueHeads(), total, config.headDim()};
            Map<String, OnnxTensor> pinned = new HashMap<>();
            for (int l = 0; l < config.numHiddenLayers(); l++) {
                DeviceTensor k = memory.allocate(session.precision(), shape);
                presents.put(GraphNames.pastKey(l), k);
                pinned.put(GraphNames.presentKey(l), k.tensor());
                DeviceTensor v = memory.allocate(session.precision(), shape);
                presents.put(GraphNames.pastValue(l), v);
                pinned.put(GraphNames.presentValue(l), v.tensor());
            }
            float[][] logits;
            long[] greedy;
            try (OrtSession.Result result = session.ortSession().run(inputs, withLogits ? LOGITS_AND_TOKENS : TOKENS_ONLY, pinned)) {
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
    private KvCache compose(List<KvCache.Row> rows) throws OrtException {
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
}
