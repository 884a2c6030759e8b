package dev.lorastream.bench;

import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ZipfSamplerTest {

    @Test
    void theSameSeedDrawsTheSameSequence() {
        ZipfSampler a = new ZipfSampler(1000, 1.0, 42), b = new ZipfSampler(1000, 1.0, 42);

        int[] first = IntStream.range(0, 500).map(i -> a.next()).toArray();
        int[] second = IntStream.range(0, 500).map(i -> b.next()).toArray();

        assertThat(first).containsExactly(second);
    }

    @Test
    void anotherSeedDrawsAnotherSequence() {
        ZipfSampler a = new ZipfSampler(1000, 1.0, 42), b = new ZipfSampler(1000, 1.0, 43);

        int[] first = IntStream.range(0, 200).map(i -> a.next()).toArray();
        int[] second = IntStream.range(0, 200).map(i -> b.next()).toArray();

        assertThat(first).isNotEqualTo(second);
    }

    @Test
    void probabilitiesFallAsOneOverRankAndSumToOne() {
        ZipfSampler z = new ZipfSampler(1000, 1.0, 1);

        double harmonic = IntStream.rangeClosed(1, 1000).mapToDouble(k -> 1.0 / k).sum();

        assertThat(z.probability(0)).isCloseTo(1 / harmonic, within(1e-12));
        assertThat(z.probability(0) / z.probability(9)).isCloseTo(10.0, within(1e-9));
        assertThat(z.probability(0) / z.probability(999)).isCloseTo(1000.0, within(1e-6));
        assertThat(IntStream.range(0, 1000).mapToDouble(z::probability).sum()).isCloseTo(1.0, within(1e-12));
        assertThat(z.headMass(8)).isCloseTo(IntStream.rangeClosed(1, 8).mapToDouble(k -> 1.0 / k).sum() / harmonic, within(1e-12));
        assertThat(z.headMass(1000)).isEqualTo(1.0);
    }

    @Test
    void drawsFollowTheDistribution() {
        int n = 1000, draws = 200_000;
        ZipfSampler z = new ZipfSampler(n, 1.0, 7);
        int[] counts = new int[n];

        for (int i = 0; i < draws; i++) counts[z.next()]++;

        // within 5 standard deviations of the binomial count, for the head ranks and the head's mass
        for (int k : new int[] {0, 1, 2, 7, 49}) {
            double p = z.probability(k), sd = Math.sqrt(draws * p * (1 - p));
            assertThat((double) counts[k]).as("rank %d", k).isCloseTo(draws * p, within(5 * sd));
        }
        double head = z.headMass(50), sdHead = Math.sqrt(draws * head * (1 - head));
        assertThat((double) IntStream.range(0, 50).map(k -> counts[k]).sum()).isCloseTo(draws * head, within(5 * sdHead));
        assertThat(counts[0]).isGreaterThan(counts[1]).isGreaterThan(counts[3]);
        assertThat(IntStream.of(counts).min().orElseThrow()).isGreaterThanOrEqualTo(0);
    }

    @Test
    void exponentZeroIsUniform() {
        ZipfSampler z = new ZipfSampler(4, 0.0, 3);

        assertThat(IntStream.range(0, 4).mapToDouble(z::probability).toArray()).containsExactly(new double[] {0.25, 0.25, 0.25, 0.25}, within(1e-12));
    }

    @Test
    void drawsStayInRange() {
        ZipfSampler z = new ZipfSampler(3, 1.2, 9);

        assertThat(IntStream.range(0, 10_000).map(i -> z.next()).allMatch(r -> r >= 0 && r < 3)).isTrue();
    }

    @Test
    void refusesAnEmptyRangeOrABadExponent() {
        assertThatThrownBy(() -> new ZipfSampler(0, 1.0, 1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("n must be");
        assertThatThrownBy(() -> new ZipfSampler(10, -1.0, 1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exponent");
        assertThatThrownBy(() -> new ZipfSampler(10, Double.NaN, 1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exponent");
    }
}
