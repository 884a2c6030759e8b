package dev.lorastream.engine.model;

/** Inverse frequencies of rotary position embeddings, as Hugging Face computes them (in float32). */
public final class Rope {
    private Rope() {}

    /** {@code inv_freq[i] = 1 / theta^(2i/headDim)} for i in [0, headDim/2), adjusted by the config's rope_scaling. */
    public static float[] inverseFrequencies(ModelConfig c) {
        int half = c.headDim() / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / c.headDim();
            inv[i] = (float) (1.0 / Math.pow(c.ropeTheta(), exponent));
        }
        ModelConfig.RopeScaling rs = c.ropeScaling();
        if (rs == null) return inv;
        if (rs.type().equals("linear")) {
            for (int i = 0; i < half; i++) inv[i] = (float) (inv[i] / rs.factor());
            return inv;
        }
        // llama3: long wavelengths are slowed by factor, short ones kept, the band between interpolated
        double lowWavelen = rs.originalMaxPositionEmbeddings() / rs.lowFreqFactor();
        double highWavelen = rs.originalMaxPositionEmbeddings() / rs.highFreqFactor();
        for (int i = 0; i < half; i++) {
            double f = inv[i];
            double wavelen = 2 * Math.PI / f;
            double scaled = wavelen > lowWavelen ? f / rs.factor() : f;
            if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
                double smooth = (rs.originalMaxPositionEmbeddings() / wavelen - rs.lowFreqFactor()) / (rs.highFreqFactor() - rs.lowFreqFactor());
                scaled = (1 - smooth) * scaled / rs.factor() + smooth * scaled;
            }
            inv[i] = (float) scaled;
        }
        return inv;
    }
}
