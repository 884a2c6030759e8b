package dev.lorastream.engine.scheduler;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class SamplerTest {
    private static final float[] LOGITS = {0.1f, 2.0f, 1.9f, -1f, 0.5f, 1.0f};

    @Test
    void temperatureZeroIsArgmaxWithTheLowestIndexOnTies() {
        assertThat(new Sampler(0f, 1f, 0, 1).next(LOGITS)).isEqualTo(1);
        assertThat(Sampler.argmax(new float[] {1f, 3f, 3f})).isEqualTo(1);
    }

    @Test
    void topKOfOneAndATinyTopPAlwaysPickTheArgmax() {
        Sampler k1 = new Sampler(1.5f, 1f, 1, 5), p = new Sampler(1.5f, 0.01f, 0, 5);
        for (int i = 0; i < 200; i++) {
            assertThat(k1.next(LOGITS)).isEqualTo(1);
            assertThat(p.next(LOGITS)).isEqualTo(1);
        }
    }

    @Test
    void topKLimitsTheCandidates() {
        Sampler s = new Sampler(2f, 1f, 2, 9);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 500; i++) seen.add(s.next(LOGITS));
        assertThat(seen).containsExactlyInAnyOrder(1, 2);
    }

    @Test
    void topPKeepsTheSmallestSetReachingTheMass() {
        // probabilities at T=1: index 1 ≈ 0.371, 2 ≈ 0.336, 5 ≈ 0.136, 4 ≈ 0.083, 0 ≈ 0.055, 3 ≈ 0.018
        Sampler s = new Sampler(1f, 0.8f, 0, 3);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) seen.add(s.next(LOGITS));
        assertThat(seen).containsExactlyInAnyOrder(1, 2, 5);
    }

    @Test
    void frequenciesFollowTheSoftmax() {
        Sampler s = new Sampler(1f, 1f, 0, 11);
        int[] counts = new int[LOGITS.length];
        int n = 20000;
        for (int i = 0; i < n; i++) counts[s.next(LOGITS)]++;
        double z = 0;
        for (float l : LOGITS) z += Math.exp(l);
        for (int i = 0; i < LOGITS.length; i++) {
            assertThat((double) counts[i] / n).isCloseTo(Math.exp(LOGITS[i]) / z, org.assertj.core.data.Offset.offset(0.015));
        }
    }

    @Test
    void theSameSeedGivesTheSameSequenceAndTheRequestIdSeedsByDefault() {
        Sampler a = new Sampler(1f, 1f, 0, Sampler.seedFor(null, "req-1")), b = new Sampler(1f, 1f, 0, Sampler.seedFor(null, "req-1"));
        Sampler c = new Sampler(1f, 1f, 0, Sampler.seedFor(null, "req-2"));
        StringBuilder sa = new StringBuilder(), sb = new StringBuilder(), sc = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            sa.append(a.next(LOGITS));
            sb.append(b.next(LOGITS));
            sc.append(c.next(LOGITS));
        }
        assertThat(sa.toString()).isEqualTo(sb.toString()).isNotEqualTo(sc.toString());
        assertThat(Sampler.seedFor(42L, "req-1")).isEqualTo(42L);
    }

    @Test
    void theLeadingIndicesAreTheFirstOfTheWholeOrderTiesByIndex() {
        java.util.Random r = new java.util.Random(3);
        float[] logits = new float[3000];
        for (int i = 0; i < logits.length; i++) logits[i] = r.nextInt(40) - 20 + (i % 7 == 0 ? 0f : 0.5f); // many ties, negatives
        Integer[] all = java.util.stream.IntStream.range(0, logits.length).boxed().toArray(Integer[]::new);
        java.util.Arrays.sort(all, java.util.Comparator.<Integer>comparingDouble(i -> -logits[i]).thenComparingInt(i -> i));
        for (int m : new int[] {1, 5, 256, 2999, 3000}) {
            int[] leading = Sampler.leading(logits, m);
            assertThat(leading).as("m %d", m).hasSize(m);
            for (int j = 0; j < m; j++) assertThat(leading[j]).as("m %d position %d", m, j).isEqualTo(all[j]);
        }
    }

    /** Over a vocabulary larger than the first look, flat and peaked: the same tokens as the plain reference that sorts it all. */
    @Test
    void samplingAsMuchOfTheOrderAsNeededGivesTheTokensOfSortingItAll() {
        java.util.Random r = new java.util.Random(17);
        int vocab = 5000, beyondFirstLook = 0, compared = 0;
        float[] temperatures = {0.3f, 1f, 2f};
        float[] topPs = {1f, 1f, 0.99f, 0.9f, 0.5f};
        int[] topKs = {0, 0, 0, 7, 300, 6000};
        for (int c = 0; c < 400; c++) {
            float scale = c % 2 == 0 ? 0.2f : 4f;
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) logits[i] = (float) (r.nextGaussian() * scale);
            float t = temperatures[r.nextInt(temperatures.length)], p = topPs[r.nextInt(topPs.length)];
            int k = topKs[r.nextInt(topKs.length)];
            double u = r.nextDouble();
            SamplingReference.Ref ref = SamplingReference.sample(logits, t, p, k, u, vocab);
            if (ref.tokenMargin() < 1e-9) continue;
            compared++;
            int token = new Sampler(t, p, k, 0).sample(logits, u);
            assertThat(token).as("case %d: T %s top_p %s top_k %d u %s", c, t, p, k, u).isEqualTo(ref.token());
            int rank = 0;
            for (int i = 0; i < vocab; i++) if (logits[i] > logits[token] || (logits[i] == logits[token] && i < token)) rank++;
            if (rank >= Sampler.FIRST_LOOK) beyondFirstLook++;
        }
        assertThat(compared).isGreaterThan(390);
        assertThat(beyondFirstLook).as("samples beyond the first look").isGreaterThan(20);
    }
}
