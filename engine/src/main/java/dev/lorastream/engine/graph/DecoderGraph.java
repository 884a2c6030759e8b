package dev.lorastream.engine.graph;

import dev.lorastream.engine.model.Checkpoint;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.model.Rope;
import dev.lorastream.engine.model.WeightNames;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.lorastream.engine.graph.OnnxGraphBuilder.Attr;
import static dev.lorastream.engine.graph.OnnxGraphBuilder.BOOL;
import static dev.lorastream.engine.graph.OnnxGraphBuilder.FLOAT;
import static dev.lorastream.engine.graph.OnnxGraphBuilder.INT64;

/**
 * Builds the reference ONNX graph of a Llama-family decoder step with a KV cache and multi-adapter
 * LoRA (standard opset-17 operators only): the plain graph that the fused one is checked against,
 * and the one used for models {@link FusedDecoderGraph} cannot take.
 *
 * <p>Per layer and LoRA group ({@link LoraGroup}) the bank's {@code lora.<layer>.<group>.A}
 * [slots, in, R] and {@code .B} [slots, R, out] are graph inputs; each row gathers its own slot
 * ({@code lora_slot}), so rows with different adapters share one forward pass, and each member
 * projection adds its slice of {@code (x·A'[slot])·B'[slot]} to {@code x·Wᵀ (+ b)}. Groups no
 * adapter targets have no LoRA nodes. RoPE cos/sin come from {@code position_ids}; the additive
 * attention mask (causal and padding) from {@code attention_mask}; grouped-query attention folds
 * the query heads of one KV head into the sequence axis so K and V are never repeated.
 *
 * <p>In {@link Precision#FP16} the weights, activations, KV cache and banks are half; the RMSNorm
 * statistics, RoPE angles, attention softmax (with its mask) and the logits stay float32.
 */
public final class DecoderGraph {
    private static final float MASKED = -1e9f;

    private final ModelConfig c;
    private final Checkpoint ckpt;
    private final Precision precision;
    /** ONNX type of activations, weights, cache and banks. */
    private final int act;
    private final OnnxGraphBuilder g = new OnnxGraphBuilder("lorastream_decoder");
    private final Set<LoraGroup> groups;
    private String slot, maskBias, cos, sin;
    /** This layer's LoRA delta of each group (null until asked for). */
    private final Map<LoraGroup, String> delta = new EnumMap<>(LoraGroup.class);

    private DecoderGraph(ModelConfig c, Checkpoint ckpt, Precision precision, Set<LoraGroup> groups) {
        this.c = c;
        this.ckpt = ckpt;
        this.precision = precision;
        this.act = precision.onnxType();
        this.groups = groups;
    }

    /** The float32 graph with LoRA on every group; initializers read their data from the checkpoint when the model is written. */
    public static OnnxGraphBuilder build(ModelConfig c, Checkpoint ckpt) {
        return build(c, ckpt, Precision.FP32, EnumSet.allOf(LoraGroup.class));
    }

    /** The graph in the given precision with LoRA on {@code groups}; initializers read their data from the checkpoint when the model is written. */
    public static OnnxGraphBuilder build(ModelConfig c, Checkpoint ckpt, Precision precision, Set<LoraGroup> groups) {
        ckpt.validate(c);
        DecoderGraph d = new DecoderGraph(c, ckpt, precision, groups);
        d.declareIo();
        d.body();
        return d.g;
    }

    private void declareIo() {
        int kv = c.numKeyValueHeads(), hd = c.headDim(), layers = c.numHiddenLayers();
        g.input(GraphNames.INPUT_IDS, INT64, "batch", "seq");
        g.input(GraphNames.ATTENTION_MASK, INT64, "batch", "total");
        g.input(GraphNames.POSITION_IDS, INT64, "batch", "seq");
        g.input(GraphNames.LORA_SLOT, INT64, "batch");
        for (int l = 0; l < layers; l++) {
            g.input(GraphNames.pastKey(l), act, "batch", kv, "past", hd);
            g.input(GraphNames.pastValue(l), act, "batch", kv, "past", hd);
        }
        LoraGroup.declareBankInputs(g, c, groups, act);
        g.output(GraphNames.LOGITS, FLOAT, "batch", c.vocabSize());
        g.output(GraphNames.NEXT_TOKEN, INT64, "batch");
        for (int l = 0; l < layers; l++) {
            g.output(GraphNames.presentKey(l), act, "batch", kv, "total", hd);
            g.output(GraphNames.presentValue(l), act, "batch", kv, "total", hd);
        }
    }

    private void body() {
        g.scope("mask");
        buildMask();
        g.scope("rope");
        buildRope();
        slot = GraphNames.LORA_SLOT;
        g.scope("embed");
        long v = c.vocabSize(), h = c.hiddenSize();
        String embed = weight("embed_tokens", WeightNames.EMBED_TOKENS, act, v, h);
        String x = g.op("Gather", List.of(embed, GraphNames.INPUT_IDS), Attr.i("axis", 0));
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            g.scope("layers." + l);
            x = layer(l, x);
        }
        g.scope("head");
        String last = g.op("Gather", List.of(x, g.scalarInt(-1)), Attr.i("axis", 1));
        String normed = rmsNorm(last, weight("norm", WeightNames.FINAL_NORM, FLOAT, h));
        String head = c.tieWordEmbeddings() ? embed : weight("lm_head", WeightNames.LM_HEAD, act, v, h);
        if (precision == Precision.FP32) {
            g.op("Gemm", GraphNames.LOGITS, List.of(normed, head), Attr.i("transB", 1));
        } else {
            g.op("Cast", GraphNames.LOGITS, List.of(g.op("Gemm", List.of(normed, head), Attr.i("transB", 1))), Attr.i("to", FLOAT));
        }
        // greedy choice on the device: a step that needs no logits on the host fetches [batch] ids instead of [batch, vocab] floats
        g.op("ArgMax", GraphNames.NEXT_TOKEN, List.of(GraphNames.LOGITS), Attr.i("axis", -1), Attr.i("keepdims", 0));
    }

    /** Additive mask [batch, 1, seq, total]: 0 where a query may attend (causal and not padding), -1e9 elsewhere. */
    private void buildMask() {
        String total = g.op("Squeeze", g.op("Shape", List.of(GraphNames.ATTENTION_MASK), Attr.i("start", 1), Attr.i("end", 2)), g.ints(0));
        String seq = g.op("Squeeze", g.op("Shape", List.of(GraphNames.INPUT_IDS), Attr.i("start", 1), Attr.i("end", 2)), g.ints(0));
        String keyIdx = g.op("Range", g.scalarInt(0), total, g.scalarInt(1));
        String queryIdx = g.op("Add", g.op("Range", g.scalarInt(0), seq, g.scalarInt(1)), g.op("Sub", total, seq));
        String causal = g.op("LessOrEqual", g.op("Unsqueeze", keyIdx, g.ints(0)), g.op("Unsqueeze", queryIdx, g.ints(1)));
        String notPad = g.op("Unsqueeze", g.op("Cast", List.of(GraphNames.ATTENTION_MASK), Attr.i("to", BOOL)), g.ints(1, 2));
        String allowed = g.op("And", causal, notPad);
        maskBias = g.op("Where", allowed, g.scalarFloat(0f), g.scalarFloat(MASKED));
    }

    /** cos and sin [batch, 1, seq, head_dim] of position · inv_freq, halves repeated (Hugging Face layout). */
    private void buildRope() {
        float[] inv = Rope.inverseFrequencies(c);
        String invFreq = g.initializer("rope.inv_freq", FLOAT, new long[] {inv.length}, RawData.floats(inv));
        String pos = g.op("Unsqueeze", g.op("Cast", List.of(GraphNames.POSITION_IDS), Attr.i("to", FLOAT)), g.ints(2));
        String freqs = g.op("Mul", pos, invFreq);
        String emb = g.op("Concat", List.of(freqs, freqs), Attr.i("axis", -1));
        cos = toAct(g.op("Unsqueeze", g.op("Cos", emb), g.ints(1)));
        sin = toAct(g.op("Unsqueeze", g.op("Sin", emb), g.ints(1)));
    }

    private String layer(int l, String x) {
        delta.clear();
        int heads = c.numAttentionHeads(), kv = c.numKeyValueHeads(), hd = c.headDim();
        String h = rmsNorm(x, weight("layers." + l + ".input_layernorm", WeightNames.inputNorm(l), FLOAT, c.hiddenSize()));
        String q = rope(heads(linear(h, l, Projection.Q_PROJ), heads));
        String k = rope(heads(linear(h, l, Projection.K_PROJ), kv));
        String v = heads(linear(h, l, Projection.V_PROJ), kv);
        String keys = g.op("Concat", GraphNames.presentKey(l), List.of(GraphNames.pastKey(l), k), Attr.i("axis", 2));
        String values = g.op("Concat", GraphNames.presentValue(l), List.of(GraphNames.pastValue(l), v), Attr.i("axis", 2));
        // [B, heads, T, hd] -> [B, kv, group*T, hd]: query heads sharing a KV head become rows of one matmul
        String grouped = g.op("Reshape", q, g.ints(0, kv, -1, hd));
        String scores = g.op("MatMul", grouped, g.op("Transpose", List.of(keys), Attr.ints("perm", 0, 1, 3, 2)));
        scores = g.op("Reshape", toFloat(scores), g.ints(0, heads, -1, 0));
        scores = g.op("Add", g.op("Mul", scores, g.scalarFloat((float) (1.0 / Math.sqrt(hd)))), maskBias);
        String probs = toAct(g.op("Softmax", List.of(scores), Attr.i("axis", -1)));
        String ctx = g.op("MatMul", g.op("Reshape", probs, g.ints(0, kv, -1, 0)), values);
        ctx = g.op("Reshape", ctx, g.ints(0, heads, -1, hd));
        ctx = g.op("Transpose", List.of(ctx), Attr.ints("perm", 0, 2, 1, 3));
        ctx = g.op("Reshape", ctx, g.ints(0, 0, (long) heads * hd));
        x = g.op("Add", x, linear(ctx, l, Projection.O_PROJ));
        String h2 = rmsNorm(x, weight("layers." + l + ".post_attention_layernorm", WeightNames.postAttentionNorm(l), FLOAT, c.hiddenSize()));
        String gate = linear(h2, l, Projection.GATE_PROJ);
        String act = g.op("Mul", g.op("Mul", gate, g.op("Sigmoid", gate)), linear(h2, l, Projection.UP_PROJ));
        return g.op("Add", x, linear(act, l, Projection.DOWN_PROJ));
    }

    /** x·Wᵀ + b, plus this projection's slice of its group's LoRA delta when the group has LoRA. */
    private String linear(String x, int l, Projection p) {
        long in = p.inFeatures(c), out = p.outFeatures(c);
        String name = WeightNames.weight(l, p);
        String wT = g.initializer("w." + p.modulePath(l), act, new long[] {in, out},
                data(act, in * out, () -> ckpt.read(name, out, in).transpose2d().data()));
        String y = g.op("MatMul", x, wT);
        if (c.hasBias(p)) y = g.op("Add", y, weight("b." + p.modulePath(l), WeightNames.bias(l, p), act, out));
        LoraGroup lg = LoraGroup.of(p);
        if (!groups.contains(lg)) return y;
        String d = delta.computeIfAbsent(lg, k -> lora(x, l, k));
        long from = lg.outOffset(c, p);
        return g.op("Add", y, g.op("Slice", d, g.ints(from), g.ints(from + out), g.ints(2)));
    }

    /** (x·A'[slot])·B'[slot] of one group: every member's delta side by side. */
    private String lora(String x, int l, LoraGroup lg) {
        String a = g.op("Gather", List.of(GraphNames.loraA(l, lg), slot), Attr.i("axis", 0));
        String b = g.op("Gather", List.of(GraphNames.loraB(l, lg), slot), Attr.i("axis", 0));
        return g.op("MatMul", g.op("MatMul", x, a), b);
    }

    /** [B, T, n·hd] -> [B, n, T, hd]. */
    private String heads(String x, int n) {
        return g.op("Transpose", List.of(g.op("Reshape", x, g.ints(0, 0, n, c.headDim()))), Attr.ints("perm", 0, 2, 1, 3));
    }

    /** x·cos + rotate_half(x)·sin, rotate_half(x) = [-x2, x1]. */
    private String rope(String x) {
        long half = c.headDim() / 2;
        String x1 = g.op("Slice", x, g.ints(0), g.ints(half), g.ints(3));
        String x2 = g.op("Slice", x, g.ints(half), g.ints(c.headDim()), g.ints(3));
        String rotated = g.op("Concat", List.of(g.op("Neg", x2), x1), Attr.i("axis", 3));
        return g.op("Add", g.op("Mul", x, cos), g.op("Mul", rotated, sin));
    }

    /** RMSNorm with float32 statistics and a float32 weight; the result in the activation type. */
    private String rmsNorm(String x, String weight) {
        x = toFloat(x);
        String variance = g.op("ReduceMean", List.of(g.op("Mul", x, x)), Attr.ints("axes", -1), Attr.i("keepdims", 1));
        String denom = g.op("Sqrt", g.op("Add", variance, g.scalarFloat((float) c.rmsNormEps())));
        return toAct(g.op("Mul", g.op("Div", x, denom), weight));
    }

    /** A float32 value as the activation type (no node in fp32). */
    private String toAct(String x) {
        return act == FLOAT ? x : g.op("Cast", List.of(x), Attr.i("to", act));
    }

    /** An activation as float32 (no node in fp32). */
    private String toFloat(String x) {
        return act == FLOAT ? x : g.op("Cast", List.of(x), Attr.i("to", FLOAT));
    }

    private String weight(String initName, String tensor, int type, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return g.initializer(initName, type, shape, data(type, n, () -> ckpt.read(tensor, shape).data()));
    }

    private static RawData data(int type, long count, java.util.function.Supplier<float[]> values) {
        return type == FLOAT ? RawData.floats(count, values) : RawData.halfs(count, values);
    }
}
