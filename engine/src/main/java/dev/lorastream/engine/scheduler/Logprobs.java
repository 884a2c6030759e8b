package dev.lorastream.engine.scheduler;

import dev.lorastream.engine.TokenLogprob;

/** Log-softmax of a step's raw logits: the chosen token's log-probability and the most likely alternatives. */
final class Logprobs {
    private Logprobs() {}

    /** @param top alternatives to list, most likely first (ties: the lower id first) */
    static TokenLogprob of(float[] logits, int token, int top) {
        float max = logits[Sampler.argmax(logits)];
        double sum = 0;
        for (float l : logits) sum += Math.exp((double) l - max);
        double logZ = max + Math.log(sum);
        int[] ids = top > 0 ? Sampler.leading(logits, Math.min(top, logits.length)) : new int[0];
        float[] lps = new float[ids.length];
        for (int j = 0; j < ids.length; j++) lps[j] = (float) (logits[ids[j]] - logZ);
        return new TokenLogprob(token, (float) (logits[token] - logZ), ids, lps);
    }
}
