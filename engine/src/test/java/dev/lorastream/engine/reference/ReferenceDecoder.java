package dev.lorastream.engine.reference;

import dev.lorastream.engine.model.FloatTensor;

import java.util.HashMap;
import java.util.Map;

/**
 * An independent plain-Java Llama-family forward pass for tests: full recompute of the whole
 * sequence (no KV cache), LoRA merged into the weights ({@code W + scaling·B·A}), written
 * straight from the Hugging Face modeling code, sharing nothing with the graph builder.
 */
public final class ReferenceDecoder {
    /** Shape of the model. {@code qkvBias}/{@code oBias}: which projections carry biases. */
    public record Shape(int hidden, int layers, int heads, int kvHeads, int intermediate, int vocab,
                        double ropeTheta, double eps, boolean tied, boolean qkvBias, boolean oBias) {}

    private final Shape s;
    private final Map<String, float[]> w = new HashMap<>();

    public ReferenceDecoder(Shape s, Map<String, FloatTensor> weights) {
        this.s = s;
        weights.forEach((k, v) -> w.put(k, v.data().clone()));
    }

    /**
     * Adds {@code scaling · B · A} to one projection's weight (PEFT layout: A [r, in], B [out, r]).
     */
    public ReferenceDecoder mergeLora(int layer, String module, float[] a, float[] b, int rank, double scaling) {
        String block = java.util.Set.of("gate_proj", "up_proj", "down_proj").contains(module) ? "mlp" : "self_attn";
        String name = "model.layers." + layer + "." + block + "." + module + ".weight";
        float[] weight = w.get(name);
        int in = a.length / rank, out = b.length / rank;
        if (weight.length != in * out) throw new IllegalArgumentException(name + ": LoRA " + out + "x" + in + " does not fit");
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double d = 0;
                for (int r = 0; r < rank; r++) d += (double) b[o * rank + r] * a[r * in + i];
                weight[o * in + i] += (float) (scaling * d);
            }
        }
        return this;
    }

    /** Logits of the last position after running the whole sequence from position 0. */
    public float[] lastLogits(int[] tokens) {
        int n = tokens.length, hd = s.hidden() / s.heads(), group = s.heads() / s.kvHeads();
        float[] embed = w.get("model.embed_tokens.weight");
        float[][] x = new float[n][];
        for (int i = 0; i < n; i++) {
            x[i] = new float[s.hidden()];
            System.arraycopy(embed, tokens[i] * s.hidden(), x[i], 0, s.hidden());
        }
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            float[][] q = new float[n][], k = new float[n][], v = new float[n][];
            for (int i = 0; i < n; i++) {
                float[] h = rmsNorm(x[i], w.get(p + "input_layernorm.weight"));
                q[i] = rope(linear(h, p + "self_attn.q_proj", s.qkvBias()), i, s.heads(), hd);
                k[i] = rope(linear(h, p + "self_attn.k_proj", s.qkvBias()), i, s.kvHeads(), hd);
                v[i] = linear(h, p + "self_attn.v_proj", s.qkvBias());
            }
            for (int i = 0; i < n; i++) {
                float[] ctx = new float[s.heads() * hd];
                for (int head = 0; head < s.heads(); head++) {
                    int kvHead = head / group;
                    double[] scores = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) dot += (double) q[i][head * hd + d] * k[j][kvHead * hd + d];
                        scores[j] = dot / Math.sqrt(hd);
                        max = Math.max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        scores[j] = Math.exp(scores[j] - max);
                        sum += scores[j];
                    }
                    for (int d = 0; d < hd; d++) {
                        double acc = 0;
                        for (int j = 0; j <= i; j++) acc += scores[j] / sum * v[j][kvHead * hd + d];
                        ctx[head * hd + d] = (float) acc;
                    }
                }
                float[] o = linear(ctx, p + "self_attn.o_proj", s.oBias());
                for (int d = 0; d < s.hidden(); d++) x[i][d] += o[d];
                float[] h2 = rmsNorm(x[i], w.get(p + "post_attention_layernorm.weight"));
                float[] gate = linear(h2, p + "mlp.gate_proj", false);
                float[] up = linear(h2, p + "mlp.up_proj", false);
                float[] act = new float[gate.length];
                for (int d = 0; d < act.length; d++) act[d] = (float) (gate[d] / (1 + Math.exp(-gate[d])) * up[d]);
                float[] down = linear(act, p + "mlp.down_proj", false);
                for (int d = 0; d < s.hidden(); d++) x[i][d] += down[d];
            }
        }
        float[] last = rmsNorm(x[n - 1], w.get("model.norm.weight"));
        float[] head = s.tied() ? embed : w.get("lm_head.weight");
        float[] logits = new float[s.vocab()];
        for (int t = 0; t < s.vocab(); t++) {
            double acc = 0;
            for (int d = 0; d < s.hidden(); d++) acc += (double) head[t * s.hidden() + d] * last[d];
            logits[t] = (float) acc;
        }
        return logits;
    }

    /** Greedy continuation, recomputing everything for every token. */
    public int[] greedy(int[] prompt, int newTokens) {
        int[] seq = java.util.Arrays.copyOf(prompt, prompt.length + newTokens);
        for (int t = 0; t < newTokens; t++) {
            float[] logits = lastLogits(java.util.Arrays.copyOf(seq, prompt.length + t));
            int best = 0;
            for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
            seq[prompt.length + t] = best;
        }
        return java.util.Arrays.copyOfRange(seq, prompt.length, seq.length);
    }

    private float[] linear(float[] x, String module, boolean bias) {
        float[] weight = w.get(module + ".weight");
        int in = x.length, out = weight.length / in;
        float[] b = bias ? w.get(module + ".bias") : null;
        float[] y = new float[out];
        for (int o = 0; o < out; o++) {
            double acc = b == null ? 0 : b[o];
            for (int i = 0; i < in; i++) acc += (double) weight[o * in + i] * x[i];
            y[o] = (float) acc;
        }
        return y;
    }

    private float[] rmsNorm(float[] x, float[] weight) {
        double ss = 0;
        for (float f : x) ss += (double) f * f;
        double inv = 1.0 / Math.sqrt(ss / x.length + s.eps());
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (float) (weight[i] * (x[i] * inv));
        return y;
    }

    /** Rotary embedding of every head of one position, rotate-half layout. */
    private float[] rope(float[] x, int position, int heads, int hd) {
        int half = hd / 2;
        float[] y = new float[x.length];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < half; j++) {
                float invFreq = (float) (1.0 / Math.pow(s.ropeTheta(), (2.0 * j) / hd));
                float angle = position * invFreq;
                double cos = Math.cos(angle), sin = Math.sin(angle);
                float x1 = x[h * hd + j], x2 = x[h * hd + j + half];
                y[h * hd + j] = (float) (x1 * cos - x2 * sin);
                y[h * hd + j + half] = (float) (x2 * cos + x1 * sin);
            }
        }
        return y;
    }
}
