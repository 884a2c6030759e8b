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
}
