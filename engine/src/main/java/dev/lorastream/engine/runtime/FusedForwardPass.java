package dev.lorastream.engine.runtime;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.lorastream.engine.graph.GraphNames;
import dev.lorastream.engine.graph.OnnxModelWriter;
import dev.lorastream.engine.graph.SamplingHead;
import dev.lorastream.engine.graph.Precision;
import dev.lorastream.engine.model.ModelConfig;

import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Forward passes of the fused graph ({@code FusedDecoderGraph}) over a {@link StaticKvCache}:
 * row r of the scheduler is row r of the cache.
 *
 * <p>Decode runs over the first {@code bucket} rows, the smallest bucket that holds every running
 * row; each bucket has its own step input, logits and next-token outputs and cache views, all at
 * fixed addresses, so that with CUDA graphs on its step is captured once (when the pass warms up)
 * and then replayed: per step one host-to-device copy of {@code [bucket, 4]} int32 (token,
 * seqlens_k, slot, row), the replay, and one device-to-host copy of the bucket's next tokens.
 * When rows sample and the pass samples on the device, their parameters and draws go up as
 * {@code [bucket, 4]} float, the sampling head ({@code SamplingHead.graph}, a session of its own,
 * captured per bucket too) runs on the logits the step left in device memory, and the sampled
 * tokens and their "sampled" flags come back; only a row the device could not finish brings its
 * logits to the host. A step of greedy rows alone never runs the head (its TopK over the vocabulary
 * cost 0.8 ms of a 3.5 ms step at batch 32 on the H200 while it was part of the decoder graph).
 * Prefill runs eagerly, one pass per run of consecutive joining rows, written straight into their
 * rows of the cache, with the sampling head (eagerly too) when a joining row samples.
 */
public final class FusedForwardPass implements ForwardPass {
    /** Decode buckets with CUDA graphs: one captured graph each. */
    static final int[] GRAPH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

    private final DecoderSession session;
    private final ModelConfig config;
    private final DeviceMemory mem;
    private final Precision precision;
    private final StaticKvCache kv;
    private final Map<String, OnnxTensor> bank;
    private final int maxRows;
    private final int padId;
    /** Decode buckets captured as CUDA graphs (off again when a capture fails: then every pass runs eagerly). */
    private boolean cudaGraphs;
    private final int[] bucketSizes;
    private final Map<Integer, Bucket> buckets = new TreeMap<>();
    private final OnnxTensor totalCapacity;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment hostStep, hostTokens, hostSampling, hostSampled;
    /** The sampling head's session (null: sampling rows are sampled on the host). */
    private final OrtSession head;
    private final boolean deviceSampling;
    /** The head's runs of each bucket captured as CUDA graphs (off again when a capture fails). */
    private boolean headGraphs;
    private MemorySegment hostLogits;
    private int nextGraphId = 1, nextHeadGraphId = 1;
    private long replays, eagerRuns, headRuns;

    /** One decode batch size: its tensors at fixed addresses, and (CUDA graphs) its graph id. */
    private final class Bucket implements AutoCloseable {
        final int size;
        final DeviceTensor step, logits, next, sampling, sampledToken, sampled;
        final List<DeviceTensor> views = new ArrayList<>();
        final Map<String, OnnxTensor> inputs = new HashMap<>();
        final Map<String, OnnxTensor> outputs = new HashMap<>();
        final Map<String, OnnxTensor> headInputs = new HashMap<>();
        final Map<String, OnnxTensor> headOutputs = new HashMap<>();
        final OrtSession.RunOptions options;
        OrtSession.RunOptions headOptions;

        Bucket(int size) throws OrtException {
            this.size = size;
            step = mem.zeros(TensorType.INT32, size, 4);
            logits = mem.allocate(precision, size, config.vocabSize());
            next = mem.allocate(TensorType.INT64, size);
            sampling = deviceSampling ? mem.zeros(TensorType.FLOAT, size, 4) : null;
            sampledToken = deviceSampling ? mem.allocate(TensorType.INT64, size) : null;
            sampled = deviceSampling ? mem.allocate(TensorType.BOOL, size) : null;
            inputs.putAll(bank);
            inputs.put(GraphNames.STEP, step.tensor());
            inputs.put(GraphNames.TOTAL_SEQUENCE_LENGTH, totalCapacity);
            kv.views(0, size, inputs, outputs, views);
            outputs.put(GraphNames.LOGITS, logits.tensor());
            outputs.put(GraphNames.NEXT_TOKEN, next.tensor());
            options = runOptions(cudaGraphs ? nextGraphId++ : -1);
            headOptions = runOptions(headGraphs ? nextHeadGraphId++ : -1);
            if (deviceSampling) {
                headInputs.put(GraphNames.LOGITS, logits.tensor());
                headInputs.put(GraphNames.NEXT_TOKEN, next.tensor());
                headInputs.put(GraphNames.SAMPLING, sampling.tensor());
                headOutputs.put(GraphNames.SAMPLED_TOKEN, sampledToken.tensor());
                headOutputs.put(GraphNames.SAMPLED, sampled.tensor());
            }
        }

        @Override
        public void close() {
            views.forEach(DeviceTensor::close);
            step.close();
            logits.close();
            next.close();
            if (sampling != null) sampling.close();
            if (sampledToken != null) sampledToken.close();
            if (sampled != null) sampled.close();
            options.close();
            headOptions.close();
        }
    }

    /**
     * @param bank               the bank's per-layer tensors (fixed addresses for the pass's life)
     * @param cudaGraphs         capture each decode bucket's step as a CUDA graph at {@link #warmUp} and replay it
     * @param samplingCandidates the sampling head's candidates ({@code SamplingHead}); 0: sampling rows are sampled on the host
     */
    public FusedForwardPass(DecoderSession session, Supplier<Map<String, OnnxTensor>> bank, int maxRows, int capacity, int padId, boolean cudaGraphs,
                            int samplingCandidates) {
        if (cudaGraphs && !session.cudaGraphs()) throw new IllegalArgumentException("the session was opened without CUDA graphs");
        this.session = session;
        this.config = session.config();
        this.mem = session.memory();
        if (!mem.usesCApi()) throw new IllegalArgumentException("the fused graph keeps its KV cache in the session allocator's memory (device tensors on)");
        this.precision = session.precision();
        this.bank = Map.copyOf(bank.get());
        this.maxRows = maxRows;
        this.padId = padId;
        this.cudaGraphs = cudaGraphs;
        this.bucketSizes = cudaGraphs ? graphBuckets(maxRows) : null;
        this.kv = new StaticKvCache(mem, config, precision, maxRows, capacity);
        try {
            this.totalCapacity = OnnxTensor.createTensor(session.env(), IntBuffer.wrap(new int[] {capacity}), new long[] {1});
        } catch (OrtException e) {
            kv.close();
            throw new IllegalStateException(e.getMessage(), e);
        }
        this.hostStep = arena.allocate(4L * Math.max(maxRows * 4L, 1), 8);
        this.hostTokens = arena.allocate(8L * maxRows, 8);
        this.hostSampling = arena.allocate(16L * Math.max(maxRows, 1), 8);
        this.hostSampled = arena.allocate(Math.max(maxRows, 1), 8);
        this.deviceSampling = samplingCandidates > 0;
        this.headGraphs = cudaGraphs && deviceSampling;
        try {
            this.head = deviceSampling
                    ? session.openSibling(OnnxModelWriter.toBytes(SamplingHead.graph(config.vocabSize(), precision.onnxType(), samplingCandidates)))
                    : null;
        } catch (OrtException e) {
            totalCapacity.close();
            kv.close();
            arena.close();
            throw new IllegalStateException("ONNX Runtime could not open the sampling head: " + e.getMessage(), e);
        }
    }

    /** Powers of two up to the first that holds {@code maxRows}, that one being {@code maxRows} itself. */
    static int[] graphBuckets(int maxRows) {
        List<Integer> sizes = new ArrayList<>();
        for (int b : GRAPH_BUCKETS) {
            if (b >= maxRows) break;
            sizes.add(b);
        }
        sizes.add(maxRows);
        return sizes.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public int maxRows() { return maxRows; }

    @Override
    public int capacity() { return kv.capacity(); }

    @Override
    public boolean threadBound() { return session.cudaGraphs(); }

    @Override
    public boolean samplesOnDevice() { return deviceSampling; }

    @Override
    public String description() {
        return "fused graph (GroupQueryAttention, static KV cache of " + maxRows + " rows x " + kv.capacity() + " tokens, "
                + kv.bytes() / (1 << 20) + " MiB, in " + mem.kind() + " memory); sampling on the " + (deviceSampling ? "device" : "host") + "; "
                + (cudaGraphs ? "decode replayed as CUDA graphs for batch buckets " + java.util.Arrays.toString(bucketSizes) + ", prefill eager"
                              : "every pass eager");
    }

    /** Runs of a new graph id before ONNX Runtime captures it (two regular runs, the third is captured). */
    private static final int RUNS_TO_CAPTURE = 3;

    /**
     * With CUDA graphs: captures every bucket's decode step, and the sampling head's run on it; when
     * a capture fails, says why and runs that part eagerly instead.
     */
    @Override
    public void warmUp() {
        if (!cudaGraphs) return;
        long t0 = System.nanoTime();
        try {
            for (int size : bucketSizes) {
                Bucket b = bucket(size);
                fillIdle(b.size, 0);
                mem.upload(b.step, hostStep.asSlice(0, 16L * b.size));
                for (int i = 0; i < RUNS_TO_CAPTURE; i++) run(b);
            }
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(FusedForwardPass.class).warn("Capturing the decode CUDA graphs failed ({}); decode runs eagerly", e.getMessage());
            buckets.values().forEach(Bucket::close);
            buckets.clear();
            cudaGraphs = false;
            headGraphs = false;
            return;
        }
        String head = "";
        if (headGraphs) {
            try {
                for (Bucket b : buckets.values()) for (int i = 0; i < RUNS_TO_CAPTURE; i++) runHead(b); // sampling all zeros: every row greedy
                head = " with the sampling head";
            } catch (RuntimeException e) {
                LoggerFactory.getLogger(FusedForwardPass.class).warn("Capturing the sampling head's CUDA graphs failed ({}); it runs eagerly", e.getMessage());
                headGraphs = false;
                for (Bucket b : buckets.values()) {
                    b.headOptions.close();
                    b.headOptions = runOptions(-1);
                }
            }
        }
        LoggerFactory.getLogger(FusedForwardPass.class).info("Captured {} decode CUDA graphs{} (batch buckets {}) in {} ms",
                bucketSizes.length, head, java.util.Arrays.toString(bucketSizes), (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * Run options of a decode-bucket run: captured and replayed under CUDA graph {@code graphId} (from 1), or
     * eager (-1), which a session that could capture must be told.
     */
    private OrtSession.RunOptions runOptions(int graphId) {
        try {
            OrtSession.RunOptions o = new OrtSession.RunOptions();
            if (graphId > 0) o.addRunConfigEntry("gpu_graph_id", Integer.toString(graphId));
            else if (session.cudaGraphs()) o.addRunConfigEntry("gpu_graph_id", "-1");
            return o;
        } catch (OrtException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private Bucket bucket(int size) {
        Bucket b = buckets.get(size);
        if (b != null) return b;
        try {
            b = new Bucket(size);
        } catch (OrtException e) {
            throw new IllegalStateException("cannot set up the decode bucket of " + size + " rows: " + e.getMessage(), e);
        }
        buckets.put(size, b);
        return b;
    }

    private int bucketFor(int span) {
        if (!cudaGraphs) return span;
        for (int s : bucketSizes) if (s >= span) return s;
        throw new IllegalArgumentException(span + " rows exceed the largest bucket " + bucketSizes[bucketSizes.length - 1]);
    }

    /**
     * Rows {@code [from, size)} of the host step as idle rows: a pad token written at the last
     * position of their own row, slot 0. No sequence ever uses that position (a row holds a prompt
     * and its generated tokens, at most {@code capacity}, and the last generated token is never
     * fed back), so an idle row in a bucket cannot disturb a row that just joined there.
     */
    private void fillIdle(int size, int from) {
        for (int r = from; r < size; r++) putStep(r, padId, kv.capacity() - 1, 0, r);
    }

    private void putStep(int r, int token, int seqlen, int slot, int index) {
        long base = 16L * r;
        hostStep.set(ValueLayout.JAVA_INT, base, token);
        hostStep.set(ValueLayout.JAVA_INT, base + 4, seqlen);
        hostStep.set(ValueLayout.JAVA_INT, base + 8, slot);
        hostStep.set(ValueLayout.JAVA_INT, base + 12, index);
    }

    @Override
    public Output decode(List<Decode> rows, boolean withLogits) {
        int span = 0;
        for (Decode d : rows) span = Math.max(span, d.row() + 1);
        Bucket b = bucket(bucketFor(span));
        fillIdle(b.size, 0);
        for (Decode d : rows) {
            if (d.cached() >= kv.capacity()) throw new IllegalArgumentException("row " + d.row() + " is full (" + kv.capacity() + " tokens)");
            putStep(d.row(), d.token(), d.cached(), d.slot(), d.row());
        }
        boolean samples = ForwardPass.anySamples(rows), onDevice = deviceSampling && samples;
        long t0 = System.nanoTime();
        mem.upload(b.step, hostStep.asSlice(0, 16L * b.size));
        if (onDevice) {
            hostSampling.asSlice(0, 16L * b.size).fill((byte) 0);
            for (Decode d : rows) if (d.sampling() != null) putSampling(hostSampling, d.row(), d.sampling());
            mem.upload(b.sampling, hostSampling.asSlice(0, 16L * b.size));
        }
        run(b);
        if (onDevice) runHead(b);
        mem.download(hostTokens, onDevice ? b.sampledToken : b.next, 8L * b.size);
        long[] tokens = new long[rows.size()];
        for (int i = 0; i < rows.size(); i++) tokens[i] = hostTokens.getAtIndex(ValueLayout.JAVA_LONG, rows.get(i).row());
        boolean[] chosen = ForwardPass.greedyChosen(rows);
        if (onDevice) {
            mem.download(hostSampled, b.sampled, b.size);
            for (int i = 0; i < rows.size(); i++) chosen[i] |= hostSampled.get(ValueLayout.JAVA_BYTE, rows.get(i).row()) != 0;
        }
        float[][] logits = logits(b, rows, chosen, withLogits);
        return new Output(tokens, chosen, logits, System.nanoTime() - t0);
    }

    /** All the rows' logits ({@code all}), else those of the rows not chosen on the device, else null. */
    private float[][] logits(Bucket b, List<Decode> rows, boolean[] chosen, boolean all) {
        boolean any = all;
        for (boolean c : chosen) any |= !c;
        if (!any) return null;
        long rowBytes = (long) config.vocabSize() * precision.bytes(), bytes = b.size * rowBytes;
        if (hostLogits == null || hostLogits.byteSize() < bytes) hostLogits = Arena.ofAuto().allocate(bytes, 8);
        float[][] logits = new float[rows.size()][];
        if (all) {
            mem.download(hostLogits, b.logits, bytes);
        } else {
            for (int i = 0; i < rows.size(); i++) {
                long at = rows.get(i).row() * rowBytes;
                if (!chosen[i]) mem.copy(hostLogits, at, b.logits.data(), at, rowBytes);
            }
            mem.sync();
        }
        for (int i = 0; i < rows.size(); i++) if (all || !chosen[i]) logits[i] = row(hostLogits, rows.get(i).row());
        return logits;
    }

    private static void putSampling(MemorySegment host, int r, Sampling s) {
        long base = 16L * r;
        host.set(ValueLayout.JAVA_FLOAT, base, s.temperature());
        host.set(ValueLayout.JAVA_FLOAT, base + 4, s.topP());
        host.set(ValueLayout.JAVA_FLOAT, base + 8, s.topK());
        host.set(ValueLayout.JAVA_FLOAT, base + 12, s.u());
    }

    private void runHead(Bucket b) {
        try (OrtSession.Result ignored = head.run(b.headInputs, Set.of(), b.headOutputs, b.headOptions)) {
            headRuns++;
        } catch (OrtException e) {
            throw new IllegalStateException("the sampling head of bucket " + b.size + " failed: " + e.getMessage(), e);
        }
    }

    private void run(Bucket b) {
        try (OrtSession.Result ignored = session.ortSession().run(b.inputs, Set.of(), b.outputs, b.options)) {
            if (cudaGraphs) replays++;
            else eagerRuns++;
        } catch (OrtException e) {
            throw new IllegalStateException("decode step of bucket " + b.size + " failed: " + e.getMessage(), e);
        }
    }

    private float[] row(MemorySegment logits, int r) {
        int v = config.vocabSize();
        float[] out = new float[v];
        long base = (long) r * v;
        if (precision == Precision.FP16) {
            for (int i = 0; i < v; i++) out[i] = Float.float16ToFloat(logits.getAtIndex(ValueLayout.JAVA_SHORT, base + i));
        } else {
            MemorySegment.copy(logits, ValueLayout.JAVA_FLOAT, base * 4, out, 0, v);
        }
        return out;
    }

    /** One eager pass per run of consecutive rows, each row's prompt right-padded to the run's longest. */
    @Override
    public Output prefill(List<Prefill> rows, boolean withLogits) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) order.add(i);
        order.sort(Comparator.comparingInt(i -> rows.get(i).row()));
        long[] tokens = new long[rows.size()];
        boolean[] chosen = ForwardPass.greedyChosen(rows);
        float[][] logits = withLogits || ForwardPass.anySamples(rows) ? new float[rows.size()][] : null;
        long t0 = System.nanoTime();
        int from = 0;
        while (from < order.size()) {
            int to = from + 1;
            while (to < order.size() && rows.get(order.get(to)).row() == rows.get(order.get(to - 1)).row() + 1) to++;
            prefillRun(rows, order.subList(from, to), withLogits, tokens, chosen, logits);
            from = to;
        }
        if (logits != null && !withLogits) for (int i = 0; i < rows.size(); i++) if (chosen[i]) logits[i] = null;
        return new Output(tokens, chosen, logits, System.nanoTime() - t0);
    }

    private void prefillRun(List<Prefill> rows, List<Integer> run, boolean withLogits, long[] tokens, boolean[] chosen, float[][] logits) {
        int n = run.size(), first = rows.get(run.getFirst()).row();
        int longest = 0;
        for (int i : run) longest = Math.max(longest, rows.get(i).prompt().length);
        if (longest > kv.capacity()) throw new IllegalArgumentException("a prompt of " + longest + " tokens exceeds the cache's " + kv.capacity());
        int width = longest + 3;
        int[] step = new int[n * width];
        for (int j = 0; j < n; j++) {
            Prefill p = rows.get(run.get(j));
            int[] prompt = p.prompt();
            int base = j * width;
            java.util.Arrays.fill(step, base, base + longest, padId);
            System.arraycopy(prompt, 0, step, base, prompt.length);
            step[base + longest] = prompt.length - 1;
            step[base + longest + 1] = p.slot();
            step[base + longest + 2] = j * longest + prompt.length - 1;
        }
        List<DeviceTensor> made = new ArrayList<>();
        OnnxTensor total = null;
        try (OrtSession.RunOptions options = new OrtSession.RunOptions()) {
            if (cudaGraphs) options.addRunConfigEntry("gpu_graph_id", "-1");
            DeviceTensor stepTensor = mem.allocate(TensorType.INT32, n, width);
            made.add(stepTensor);
            MemorySegment host = Arena.ofAuto().allocate(4L * step.length, 8);
            MemorySegment.copy(step, 0, host, ValueLayout.JAVA_INT, 0, step.length);
            mem.upload(stepTensor, host);
            total = OnnxTensor.createTensor(session.env(), IntBuffer.wrap(new int[] {longest}), new long[] {1});
            Map<String, OnnxTensor> inputs = new HashMap<>(bank);
            boolean samples = false;
            for (int i : run) samples |= rows.get(i).sampling() != null;
            boolean onDevice = deviceSampling && samples;
            Map<String, OnnxTensor> presents = new HashMap<>();
            inputs.put(GraphNames.STEP, stepTensor.tensor());
            inputs.put(GraphNames.TOTAL_SEQUENCE_LENGTH, total);
            kv.views(first, n, inputs, presents, made);
            if (onDevice) { // the logits stay in device memory for the head
                prefillHead(rows, run, inputs, presents, options, withLogits, tokens, chosen, logits, made);
                return;
            }
            Set<String> wanted = new java.util.HashSet<>(Set.of(GraphNames.NEXT_TOKEN));
            if (withLogits || samples) wanted.add(GraphNames.LOGITS);
            try (OrtSession.Result result = session.ortSession().run(inputs, wanted, presents, options)) {
                eagerRuns++;
                LongBuffer next = tensor(result, GraphNames.NEXT_TOKEN).getLongBuffer();
                for (int j = 0; j < n; j++) tokens[run.get(j)] = next.get(j);
                if (withLogits || samples) {
                    float[][] rowsLogits = hostLogits(tensor(result, GraphNames.LOGITS), n);
                    for (int j = 0; j < n; j++) logits[run.get(j)] = rowsLogits[j];
                }
            }
        } catch (OrtException e) {
            throw new IllegalStateException("prefill of rows " + first + ".." + (first + n - 1) + " failed: " + e.getMessage(), e);
        } finally {
            made.forEach(DeviceTensor::close);
            if (total != null) total.close();
        }
    }

    /** A prefill run with sampling rows: the decoder writes its logits and greedy tokens to device memory, the head samples from them. */
    private void prefillHead(List<Prefill> rows, List<Integer> run, Map<String, OnnxTensor> inputs, Map<String, OnnxTensor> outputs,
                             OrtSession.RunOptions options, boolean withLogits, long[] tokens, boolean[] chosen, float[][] logits,
                             List<DeviceTensor> made) throws OrtException {
        int n = run.size();
        DeviceTensor devLogits = mem.allocate(precision, n, config.vocabSize()), next = mem.allocate(TensorType.INT64, n),
                sampling = mem.allocate(TensorType.FLOAT, n, 4), token = mem.allocate(TensorType.INT64, n), sampled = mem.allocate(TensorType.BOOL, n);
        made.addAll(List.of(devLogits, next, sampling, token, sampled));
        outputs.put(GraphNames.LOGITS, devLogits.tensor());
        outputs.put(GraphNames.NEXT_TOKEN, next.tensor());
        try (OrtSession.Result ignored = session.ortSession().run(inputs, Set.of(), outputs, options)) {
            eagerRuns++;
        }
        hostSampling.asSlice(0, 16L * n).fill((byte) 0);
        for (int j = 0; j < n; j++) if (rows.get(run.get(j)).sampling() != null) putSampling(hostSampling, j, rows.get(run.get(j)).sampling());
        mem.upload(sampling, hostSampling.asSlice(0, 16L * n));
        try (OrtSession.RunOptions eager = runOptions(-1);
             OrtSession.Result ignored = head.run(Map.of(GraphNames.LOGITS, devLogits.tensor(), GraphNames.NEXT_TOKEN, next.tensor(),
                     GraphNames.SAMPLING, sampling.tensor()), Set.of(), Map.of(GraphNames.SAMPLED_TOKEN, token.tensor(), GraphNames.SAMPLED, sampled.tensor()),
                     eager)) {
            headRuns++;
        }
        mem.download(hostTokens, token, 8L * n);
        mem.download(hostSampled, sampled, n);
        boolean any = withLogits;
        for (int j = 0; j < n; j++) {
            tokens[run.get(j)] = hostTokens.getAtIndex(ValueLayout.JAVA_LONG, j);
            chosen[run.get(j)] |= hostSampled.get(ValueLayout.JAVA_BYTE, j) != 0;
            any |= !chosen[run.get(j)];
        }
        if (!any) return;
        long bytes = (long) n * config.vocabSize() * precision.bytes();
        if (hostLogits == null || hostLogits.byteSize() < bytes) hostLogits = Arena.ofAuto().allocate(bytes, 8);
        mem.download(hostLogits, devLogits, bytes);
        for (int j = 0; j < n; j++) logits[run.get(j)] = row(hostLogits, j);
    }

    private static OnnxTensor tensor(OrtSession.Result result, String name) {
        OnnxValue v = result.get(name).orElseThrow(() -> new IllegalStateException("decoder output " + name + " is missing"));
        return (OnnxTensor) v;
    }

    private float[][] hostLogits(OnnxTensor t, int n) {
        int v = config.vocabSize();
        float[][] out = new float[n][v];
        if (precision == Precision.FP16) {
            ShortBuffer sb = t.getShortBuffer();
            for (int j = 0; j < n; j++) for (int i = 0; i < v; i++) out[j][i] = Float.float16ToFloat(sb.get());
        } else {
            java.nio.FloatBuffer fb = t.getFloatBuffer();
            for (int j = 0; j < n; j++) fb.get(out[j]);
        }
        return out;
    }

    @Override
    public void release(int row) {
        // nothing to free: the row's cache is overwritten from position 0 by its next prefill
    }

    /** Decode steps replayed as CUDA graphs, and passes run eagerly. */
    public long replays() { return replays; }

    public long eagerRuns() { return eagerRuns; }

    /** Runs of the sampling head (decode steps with sampling rows). */
    public long headRuns() { return headRuns; }

    @Override
    public void close() {
        buckets.values().forEach(Bucket::close);
        buckets.clear();
        totalCapacity.close();
        kv.close();
        arena.close();
        if (head != null) {
            try {
                head.close();
            } catch (OrtException e) {
                throw new IllegalStateException("closing the sampling head's session failed: " + e.getMessage(), e);
            }
        }
    }
}
