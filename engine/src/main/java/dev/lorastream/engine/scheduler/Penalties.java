package dev.lorastream.engine.scheduler;

import java.util.Map;

/**
 * OpenAI's presence and frequency penalties, as vLLM applies them: over the tokens generated so
 * far (not the prompt), {@code logit[t] -= presence · [count(t) > 0] + frequency · count(t)}, on the
 * raw logits before temperature and the top-k/top-p cuts.
 */
final class Penalties {
    private Penalties() {}

    /** A penalised copy of the logits (the logits themselves when nothing was generated yet). */
    static float[] apply(float[] logits, Map<Integer, Integer> counts, float presence, float frequency) {
        if (counts.isEmpty()) return logits;
        float[] out = logits.clone();
        counts.forEach((token, n) -> out[token] -= presence + frequency * n);
        return out;
    }
}
