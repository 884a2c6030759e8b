package dev.lorastream.engine.onnx;

import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.TestModels.Adapter;
import dev.lorastream.engine.TestModels.Backbone;
import dev.lorastream.engine.TokenLogprob;
import dev.lorastream.engine.reference.ReferenceDecoder;
import dev.lorastream.engine.scheduler.Sampler;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Presence and frequency penalties and log-probabilities on both graphs (the fused one, the
 * reference one) against the plain-Java reference decoder: each step's greedy token of the
 * penalised reference logits, each token's log-softmax and its top alternatives, in a batch that
 * mixes them with plain greedy and sampling rows (which must not change).
 */
class PenaltiesAndLogprobsTest {
    private static final double TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"fused", "reference"})
    void penalisedTokensAndLogprobsAreThoseOfTheReference(String graph) throws Exception {
        Backbone b = TestModels.writeBackbone(tmp.resolve("backbone"), TestModels.llama16(), 7);
        Path adaptersDir = tmp.resolve("adapters");
        Map<String, Adapter> adapters = TestModels.referenceAdapters(adaptersDir, b);
        List<GenerationTask> batch = List.of(
                new GenerationTask("penalised", "alpha", TestModels.prompt(1, 5), 10, 0f, 1f, 0, null, true, 3, 0.5f, 1.5f),
                new GenerationTask("presence-only", null, TestModels.prompt(2, 4), 10, 0f, 1f, 0, null, true, -1, 2f, 0f),
                new GenerationTask("logprobs-only", "beta", TestModels.prompt(3, 6), 8, 0f, 1f, 0, null, true, 5, 0f, 0f),
                new GenerationTask("zero-alternatives", null, TestModels.prompt(6, 3), 4, 0f, 1f, 0, null, true, 0, 0f, 0f),
                TestModels.greedy("plain", "gamma", TestModels.prompt(4, 7), 6));
        EngineConfig config = new EngineConfig(b.dir(), adaptersDir, "cpu", 8).withGraph(graph);
        try (OnnxLoraEngine engine = OnnxLoraEngine.open(config)) {
            List<Generation> out = engine.generate(batch);
            for (int row = 0; row < batch.size(); row++) {
                GenerationTask t = batch.get(row);
                Generation g = out.get(row);
                ReferenceDecoder ref = b.reference(t.adapterId() == null ? null : adapters.get(t.adapterId()));
                assertThat(g.tokenIds()).as(t.requestId()).hasSize(t.maxNewTokens());
                assertThat(g.logprobs() == null).as(t.requestId() + ": logprobs only when asked").isEqualTo(t.logprobs() < 0);
                Map<Integer, Integer> counts = new HashMap<>();
                for (int step = 0; step < t.maxNewTokens(); step++) {
                    float[] logits = ref.lastLogits(TestModels.concat(t.promptIds(), Arrays.copyOf(g.tokenIds(), step)));
                    float[] penalised = logits.clone();
                    counts.forEach((token, n) -> penalised[token] -= t.presencePenalty() + t.frequencyPenalty() * n);
                    int expected = Sampler.argmax(penalised);
                    assertThat(g.tokenIds()[step]).as("%s %s step %d", graph, t.requestId(), step).isEqualTo(expected);
                    counts.merge(expected, 1, Integer::sum);
                    if (t.logprobs() >= 0) {
                        TokenLogprob lp = g.logprobs().get(step);
                        double[] logSoftmax = logSoftmax(logits);
                        assertThat(lp.tokenId()).isEqualTo(expected);
                        assertThat(Math.abs(lp.logprob() - logSoftmax[expected])).as("%s %s step %d logprob", graph, t.requestId(), step).isLessThan(TOLERANCE);
                        assertThat(lp.topIds()).hasSize(t.logprobs());
                        for (int j = 0; j < lp.topIds().length; j++) {
                            assertThat(Math.abs(lp.topLogprobs()[j] - logSoftmax[lp.topIds()[j]])).isLessThan(TOLERANCE);
                            if (j > 0) assertThat(lp.topLogprobs()[j]).isLessThanOrEqualTo(lp.topLogprobs()[j - 1]);
                        }
                        if (lp.topIds().length > 0) assertThat(lp.topIds()[0]).isEqualTo(Sampler.argmax(logits));
                    }
                }
            }
            // penalties change the answer here: the same task without them repeats itself more
            GenerationTask unpenalised = new GenerationTask("unpenalised", null, TestModels.prompt(2, 4), 10, 0f, 1f, 0, null, true);
            assertThat(engine.generate(List.of(unpenalised)).getFirst().tokenIds()).isNotEqualTo(out.get(1).tokenIds());
            assertThatThrownBy(() -> engine.validate(new GenerationTask("x", null, TestModels.prompt(1, 3), 2, 0f, 1f, 0, null, true, 6, 0f, 0f)))
                    .isInstanceOf(InvalidTaskException.class).hasMessageContaining("logprobs");
            assertThatThrownBy(() -> engine.validate(new GenerationTask("x", null, TestModels.prompt(1, 3), 2, 0f, 1f, 0, null, true, -1, 0f, 2.5f)))
                    .isInstanceOf(InvalidTaskException.class).hasMessageContaining("frequency_penalty");
        }
    }

    private static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        double z = max + Math.log(sum);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) out[i] = logits[i] - z;
        return out;
    }
}
