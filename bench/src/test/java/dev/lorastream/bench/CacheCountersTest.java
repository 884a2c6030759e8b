package dev.lorastream.bench;

import dev.lorastream.engine.adapters.cache.AdapterMetrics;
import dev.lorastream.engine.adapters.cache.Tier;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class CacheCountersTest {

    @Test
    void sumsTheEnginesCountersOverAdaptersFromItsPrometheusText() {
        AdapterMetrics m = new AdapterMetrics();
        m.hit(Tier.DEVICE, "a");
        m.hit(Tier.DEVICE, "b");
        m.miss(Tier.DEVICE, "b");
        m.miss(Tier.HOST, "b");
        m.hit(Tier.HOST, "c");
        m.eviction(Tier.DEVICE, "a");
        m.eviction(Tier.HOST, "c");
        m.loaded("a", 2_000_000L);
        m.loaded("b", 4_000_000L);
        m.loadFailed("b");
        m.runningChanged(null, 1);

        CacheCounters c = CacheCounters.parse(m.prometheusText());

        assertThat(c.hits(Tier.DEVICE)).isEqualTo(2);
        assertThat(c.misses(Tier.DEVICE)).isEqualTo(1);
        assertThat(c.hitRate(Tier.DEVICE)).isCloseTo(2 / 3.0, within(1e-12));
        assertThat(c.hitRate(Tier.HOST)).isCloseTo(0.5, within(1e-12));
        assertThat(c.evictions(Tier.DEVICE)).isEqualTo(1);
        assertThat(c.evictions(Tier.HOST)).isEqualTo(1);
        assertThat(c.loads()).isEqualTo(2);
        assertThat(c.loadFailures()).isEqualTo(1);
        assertThat(c.meanLoadSeconds()).isCloseTo(0.003, within(1e-9));
    }

    @Test
    void aRunsFiguresAreTheDifferenceOfTwoReadings() {
        AdapterMetrics m = new AdapterMetrics();
        m.hit(Tier.DEVICE, "a");
        m.loaded("a", 2_000_000L);
        CacheCounters before = CacheCounters.parse(m.prometheusText());
        m.miss(Tier.DEVICE, "a");
        m.loaded("a", 30_000_000L);

        CacheCounters delta = CacheCounters.parse(m.prometheusText()).minus(before);

        assertThat(delta.hits(Tier.DEVICE)).isZero();
        assertThat(delta.misses(Tier.DEVICE)).isEqualTo(1);
        assertThat(delta.loads()).isEqualTo(1);
        assertThat(delta.meanLoadSeconds()).isCloseTo(0.030, within(1e-9));
        assertThat(delta.plus(before)).isEqualTo(CacheCounters.parse(m.prometheusText()));
    }

    @Test
    void quantilesInterpolateInsideTheBucketAsHistogramQuantileDoes() {
        AdapterMetrics m = new AdapterMetrics();
        for (int i = 0; i < 10; i++) m.loaded("a", 2_000_000L); // (0.001, 0.005]
        for (int i = 0; i < 10; i++) m.loaded("b", 7_000_000L); // (0.005, 0.01]

        CacheCounters c = CacheCounters.parse(m.prometheusText());

        assertThat(c.loadQuantileSeconds(0.25)).isCloseTo(0.001 + 0.004 * 0.5, within(1e-12));
        assertThat(c.loadQuantileSeconds(0.5)).isCloseTo(0.005, within(1e-12));
        assertThat(c.loadQuantileSeconds(0.9)).isCloseTo(0.005 + 0.005 * 0.8, within(1e-12));
    }

    @Test
    void withoutLoadsTheLoadFiguresAreNaN() {
        CacheCounters c = CacheCounters.parse(new AdapterMetrics().prometheusText());

        assertThat(c.loads()).isZero();
        assertThat(c.meanLoadSeconds()).isNaN();
        assertThat(c.loadQuantileSeconds(0.5)).isNaN();
        assertThat(c.hitRate(Tier.DEVICE)).isNaN();
    }
}
