package dev.lorastream.engine.graph;

import dev.lorastream.engine.model.Checkpoint;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.model.Rope;
import dev.lorastream.engine.model.WeightNames;

import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

import static dev.lorastream.engine.graph.OnnxGraphBuilder.Attr;
import static dev.lorastream.engine.graph.OnnxGraphBuilder.INT32;
import static dev.lorastream.engine.graph.OnnxGraphBuilder.INT64;
import static dev.lorastream.engine.graph.OnnxGraphBuilder.MICROSOFT;

/**
 * The fast decoder graph on ONNX Runtime's contrib operators, for CUDA (fp16) and the CPU (fp32):
 * per layer a {@code SkipSimplifiedLayerNormalization} that also carries the residual sum, one
 * packed QKV matmul feeding {@code GroupQueryAttention} (rotary inside, past and present one
 * static buffer {@code [rows, kv_heads, capacity, head]} written in place at each row's length),
 * one packed gate|up matmul, {@code QuickGelu} (alpha 1: SiLU), and LoRA only on the groups some
 * adapter targets, one bank read per group ({@link LoraGroup}).
 *
 * <p>Inputs are device-resident and shape-free so that a decode step can be captured as a CUDA
 * graph: {@link GraphNames#STEP} packs each row's token ids with its seqlens_k, slot and
 * last-token index (no Shape, Range or mask subgraph, which would put nodes on the host), and
 * {@link GraphNames#TOTAL_SEQUENCE_LENGTH} is the only host input. Outputs: logits of each row's
 * last token in the activation type, and its argmax.
 *
 * <p>Needs a head size that is a multiple of 16 (GroupQueryAttention's rotary); {@link #supports}
 * says whether a model can take it.
 */
public final class FusedDecoderGraph {
    private final ModelConfig c;
    private final Checkpoint ckpt;
    private final int act;
    private final Set<LoraGroup> groups;
    private final int ropeLength;
    private final GreedyHead greedyHead;
    private final OnnxGraphBuilder g = new OnnxGraphBuilder("lorastream_fused_decoder");
    private String slot, cos, sin, total, seqlens;

    private FusedDecoderGraph(ModelConfig c, Checkpoint ckpt, Precision precision, Set<LoraGroup> groups, int ropeLength, GreedyHead greedyHead) {
        this.c = c;
        this.greedyHead = greedyHead;
        this.ckpt = ckpt;
        this.act = precision.onnxType();
        this.groups = groups;
        this.ropeLength = ropeLength;
    }

    /** Why this model cannot use the fused graph, or null when it can. */
    public static String unsupportedReason(ModelConfig c) {
        if (c.headDim() % 16 != 0) return "head size " + c.headDim() + " is not a multiple of 16 (GroupQueryAttention's rotary needs it)";
        if (c.slidingWindow() > 0 && c.slidingWindow() < c.maxPositionEmbeddings()) return "sliding-window attention is not built into the fused graph";
        return null;
    }

    public static boolean supports(ModelConfig c) { return unsupportedReason(c) == null; }

    /**
     * @param groups     the LoRA groups that get bank inputs and LoRA nodes
     * @param ropeLength positions the rotary tables cover: at least the KV cache's capacity
     * @param greedyHead how the graph picks each row's greedy token
     */
    public static OnnxGraphBuilder build(ModelConfig c, Checkpoint ckpt, Precision precision, Set<LoraGroup> groups, int ropeLength,
                                         GreedyHead greedyHead) {
        String reason = unsupportedReason(c);
        if (reason != null) throw new IllegalArgumentException("the fused decoder graph cannot take this model: " + reason);
        ckpt.validate(c);
        FusedDecoderGraph d = new FusedDecoderGraph(c, ckpt, precision, groups, ropeLength, greedyHead);
        d.declareIo();
        d.body();
        return d.g;
    }

    private void declareIo() {
        int kv = c.numKeyValueHeads(), hd = c.headDim(), layers = c.numHiddenLayers();
        g.input(GraphNames.STEP, INT32, "batch", "step_width");
        g.input(GraphNames.TOTAL_SEQUENCE_LENGTH, INT32, 1);
        for (int l = 0; l < layers; l++) {
            g.input(GraphNames.pastKey(l), act, "batch", kv, "capacity", hd);
            g.input(GraphNames.pastValue(l), act, "batch", kv, "capacity", hd);
        }
        LoraGroup.declareBankInputs(g, c, groups, act);
        g.output(GraphNames.LOGITS, act, "batch", c.vocabSize());
        g.output(GraphNames.NEXT_TOKEN, INT64, "batch");
        for (int l = 0; l < layers; l++) {
            g.output(GraphNames.presentKey(l), act, "batch", kv, "capacity", hd);
            g.output(GraphNames.presentValue(l), act, "batch", kv, "capacity", hd);
        }
    }

    private void body() {
        long h = c.hiddenSize();
        g.scope("step");
        String ids = g.op("Slice", GraphNames.STEP, g.ints(0), g.ints(-3), g.ints(1));
        seqlens = column(-3);
        slot = column(-2);
        String lastIndex = column(-1);
        total = GraphNames.TOTAL_SEQUENCE_LENGTH;
        rotaryTables();
        g.scope("embed");
        String embed = weight("embed_tokens", WeightNames.EMBED_TOKENS, c.vocabSize(), h);
        String x = g.op("Gather", List.of(embed, ids), Attr.i("axis", 0));
        String normed = g.opIn("", "SimplifiedLayerNormalization", List.of(x, weight("layers.0.input_layernorm", WeightNames.inputNorm(0), h)), 1,
                Attr.f("epsilon", (float) c.rmsNormEps()), Attr.i("axis", -1), Attr.i("stash_type", 1)).getFirst();
        String residual = x;
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            g.scope("layers." + l);
            String attn = attention(l, normed);
            List<String> post = skipNorm(attn, residual, weight("layers." + l + ".post_attention_layernorm", WeightNames.postAttentionNorm(l), h));
            String mlp = mlp(l, post.get(0));
            residual = post.get(1);
            if (l + 1 < c.numHiddenLayers()) {
                List<String> next = skipNorm(mlp, residual, weight("layers." + (l + 1) + ".input_layernorm", WeightNames.inputNorm(l + 1), h));
                normed = next.get(0);
                residual = next.get(1);
            } else {
                normed = mlp; // the last layer's output; the final norm runs on the last positions only
            }
        }
        g.scope("head");
        String lastOut = g.op("Gather", List.of(g.op("Reshape", normed, g.ints(-1, h)), lastIndex), Attr.i("axis", 0));
        String lastResidual = g.op("Gather", List.of(g.op("Reshape", residual, g.ints(-1, h)), lastIndex), Attr.i("axis", 0));
        String last = skipNorm(lastOut, lastResidual, weight("norm", WeightNames.FINAL_NORM, h)).get(0);
        String head = c.tieWordEmbeddings() ? embed : weight("lm_head", WeightNames.LM_HEAD, c.vocabSize(), h);
        g.op("Gemm", GraphNames.LOGITS, List.of(last, head), Attr.i("transB", 1));
        greedy();
    }

    /**
     * Each row's greedy token (the lowest index among equal maxima) as {@link GraphNames#NEXT_TOKEN}.
     * Sampling is not in this graph: a step with sampling rows runs {@link SamplingHead#graph} on
     * its logits afterwards, so a greedy step never pays for the head's TopK.
     */
    private void greedy() {
        greedyHead.build(g, GraphNames.LOGITS, GraphNames.NEXT_TOKEN, c.vocabSize(), act);
    }

    /** Column {@code index} (negative: from the end) of the step input, as [batch]. */
    private String column(long index) {
        String col = g.op("Slice", GraphNames.STEP, g.ints(index), g.ints(index == -1 ? Integer.MAX_VALUE : index + 1), g.ints(1));
        return g.op("Squeeze", col, g.ints(1));
    }

    /** cos and sin [ropeLength, head/2] of position · inv_freq (float32 angles, as Hugging Face computes them). */
    private void rotaryTables() {
        float[] inv = Rope.inverseFrequencies(c);
        int half = inv.length;
        long n = (long) ropeLength * half;
        Supplier<float[]> cosValues = () -> table(inv, true), sinValues = () -> table(inv, false);
        cos = g.initializer("rope.cos_cache", act, new long[] {ropeLength, half}, data(n, cosValues));
        sin = g.initializer("rope.sin_cache", act, new long[] {ropeLength, half}, data(n, sinValues));
    }

    private float[] table(float[] inv, boolean cosine) {
        int half = inv.length;
        float[] t = new float[ropeLength * half];
        for (int pos = 0; pos < ropeLength; pos++) {
            for (int i = 0; i < half; i++) {
                float angle = pos * inv[i];
                t[pos * half + i] = (float) (cosine ? Math.cos(angle) : Math.sin(angle));
            }
        }
        return t;
    }

    /** Self-attention of one layer: packed QKV (+ LoRA), GroupQueryAttention on the static cache, o_proj (+ LoRA). */
    private String attention(int l, String x) {
        List<Projection> qkv = LoraGroup.QKV.members();
        String y = g.op("MatMul", x, packedWeight(l, qkv, "w." + l + ".qkv_proj"));
        if (c.qkvBias()) y = g.op("Add", y, packedBias(l, qkv, "b." + l + ".qkv_proj"));
        y = withLora(y, x, l, LoraGroup.QKV);
        List<String> outs = g.opIn(MICROSOFT, "GroupQueryAttention",
                List.of(y, "", "", GraphNames.pastKey(l), GraphNames.pastValue(l), seqlens, total, cos, sin),
                java.util.Arrays.asList(null, GraphNames.presentKey(l), GraphNames.presentValue(l)),
                Attr.i("num_heads", c.numAttentionHeads()), Attr.i("kv_num_heads", c.numKeyValueHeads()),
                Attr.i("do_rotary", 1), Attr.i("rotary_interleaved", 0));
        String ctx = outs.getFirst();
        String o = g.op("MatMul", ctx, packedWeight(l, List.of(Projection.O_PROJ), "w." + l + ".o_proj"));
        if (c.oBias()) o = g.op("Add", o, packedBias(l, List.of(Projection.O_PROJ), "b." + l + ".o_proj"));
        return withLora(o, ctx, l, LoraGroup.O);
    }

    /** The MLP of one layer: packed gate|up (+ LoRA), SiLU(gate)·up, down_proj (+ LoRA). */
    private String mlp(int l, String x) {
        List<Projection> gateUp = LoraGroup.GATE_UP.members();
        String y = g.op("MatMul", x, packedWeight(l, gateUp, "w." + l + ".gate_up_proj"));
        if (c.mlpBias()) y = g.op("Add", y, packedBias(l, gateUp, "b." + l + ".gate_up_proj"));
        y = withLora(y, x, l, LoraGroup.GATE_UP);
        long inter = c.intermediateSize();
        List<String> halves = g.opIn("", "Split", List.of(y, g.ints(inter, inter)), 2, Attr.i("axis", -1));
        String gate = g.opIn(MICROSOFT, "QuickGelu", List.of(halves.get(0)), 1, Attr.f("alpha", 1.0f)).getFirst();
        String act = g.op("Mul", gate, halves.get(1));
        String d = g.op("MatMul", act, packedWeight(l, List.of(Projection.DOWN_PROJ), "w." + l + ".down_proj"));
        if (c.mlpBias()) d = g.op("Add", d, packedBias(l, List.of(Projection.DOWN_PROJ), "b." + l + ".down_proj"));
        return withLora(d, act, l, LoraGroup.DOWN);
    }

    /** {@code y + (x·A'[slot])·B'[slot]} when the group has LoRA, else {@code y}. */
    private String withLora(String y, String x, int l, LoraGroup lg) {
        if (!groups.contains(lg)) return y;
        String a = g.op("Gather", List.of(GraphNames.loraA(l, lg), slot), Attr.i("axis", 0));
        String b = g.op("Gather", List.of(GraphNames.loraB(l, lg), slot), Attr.i("axis", 0));
        return g.op("Add", y, g.op("MatMul", g.op("MatMul", x, a), b));
    }

    /** RMSNorm of {@code x + skip}: [normed, x + skip]. */
    private List<String> skipNorm(String x, String skip, String weight) {
        List<String> outs = g.opIn(MICROSOFT, "SkipSimplifiedLayerNormalization", List.of(x, skip, weight), java.util.Arrays.asList(null, "", "", null),
                Attr.f("epsilon", (float) c.rmsNormEps()));
        return List.of(outs.get(0), outs.get(3));
    }

    /** The projections' weights transposed and side by side: [in, Σ out]. */
    private String packedWeight(int l, List<Projection> ps, String name) {
        long in = ps.getFirst().inFeatures(c), out = 0;
        for (Projection p : ps) out += p.outFeatures(c);
        long cols = out;
        return g.initializer(name, act, new long[] {in, cols}, data(in * cols, () -> {
            float[] w = new float[Math.toIntExact(in * cols)];
            long offset = 0;
            for (Projection p : ps) {
                int o = p.outFeatures(c), i = p.inFeatures(c);
                float[] src = ckpt.read(WeightNames.weight(l, p), o, i).data(); // [out, in]
                for (int r = 0; r < i; r++) {
                    for (int k = 0; k < o; k++) w[(int) (r * cols + offset + k)] = src[k * i + r];
                }
                offset += o;
            }
            return w;
        }));
    }

    private String packedBias(int l, List<Projection> ps, String name) {
        long out = 0;
        for (Projection p : ps) out += p.outFeatures(c);
        long n = out;
        return g.initializer(name, act, new long[] {n}, data(n, () -> {
            float[] b = new float[(int) n];
            int offset = 0;
            for (Projection p : ps) {
                float[] src = ckpt.read(WeightNames.bias(l, p), p.outFeatures(c)).data();
                System.arraycopy(src, 0, b, offset, src.length);
                offset += src.length;
            }
            return b;
        }));
    }

    private String weight(String initName, String tensor, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return g.initializer(initName, act, shape, data(n, () -> ckpt.read(tensor, shape).data()));
    }

    private RawData data(long count, Supplier<float[]> values) {
        return act == OnnxGraphBuilder.FLOAT ? RawData.floats(count, values) : RawData.halfs(count, values);
    }
}
