package dev.lorastream.engine.graph;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.FloatBuffer;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Every greedy head against a plain argmax (the lowest index among equal maxima), on vocabularies that do and do not fill their chunks. */
class GreedyHeadTest {
    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (GreedyHead head : GreedyHead.values()) {
            for (int vocab : new int[] {1, 2, 63, 64, 65, 99, 4096, 4097, 128256}) b.add(Arguments.of(head, vocab));
        }
        return b.build();
    }

    @ParameterizedTest
    @MethodSource("cases")
    void theHeadPicksTheFirstMaximumOfEveryRow(GreedyHead head, int vocab) throws Exception {
        OnnxGraphBuilder g = new OnnxGraphBuilder("greedy");
        g.input("logits", OnnxGraphBuilder.FLOAT, "batch", vocab);
        g.output("next", OnnxGraphBuilder.INT64, "batch");
        head.build(g, "logits", "next", vocab, OnnxGraphBuilder.FLOAT);
        int rows = 7;
        float[] logits = new float[rows * vocab];
        Random r = new Random(vocab * 31L + head.ordinal());
        for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
        // ties: row 1's maximum twice (the first must win), row 2 all equal, row 3 its maximum in the last position, row 4 very negative
        if (vocab > 1) {
            int a = r.nextInt(vocab), c = r.nextInt(vocab);
            logits[vocab + a] = 9f;
            logits[vocab + c] = 9f;
        }
        for (int i = 0; i < vocab; i++) logits[2 * vocab + i] = 0.5f;
        logits[4 * vocab - 1] = 50f;
        for (int i = 0; i < vocab; i++) logits[4 * vocab + i] = -1e30f + i % 3;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(OnnxModelWriter.toBytes(g), new OrtSession.SessionOptions());
             OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(logits), new long[] {rows, vocab});
             OrtSession.Result out = s.run(java.util.Map.of("logits", in))) {
            long[] next = (long[]) out.get(0).getValue();
            for (int row = 0; row < rows; row++) {
                int best = 0;
                for (int i = 1; i < vocab; i++) if (logits[row * vocab + i] > logits[row * vocab + best]) best = i;
                assertThat(next[row]).as("%s vocab %d row %d", head, vocab, row).isEqualTo(best);
            }
        }
    }
}
