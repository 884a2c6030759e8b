package dev.lorastream.engine.adapters.cache;

import org.junit.jupiter.api.Test;

import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class AdapterMetricsTest {
    /** A sample line of the text format: name, optional labels, a value. */
    private static final Pattern SAMPLE = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)*\\})? -?[0-9.eE+-]+");

    @Test
    void rendersEveryFamilyWithHelpTypeAndPerAdapterSamplesInIdOrder() {
        AdapterMetrics m = new AdapterMetrics();
        m.waitingChanged("b", 1);
        m.runningChanged("a", 2);
        m.runningChanged(null, 1);
        m.hit(Tier.DEVICE, "a");
        m.miss(Tier.HOST, "a");
        m.eviction(Tier.DEVICE, "b");
        m.loaded("a", 20_000_000L);
        m.loaded("a", 3_000_000_000L);
        m.loadFailed("b");
        m.tierUsage(Tier.DEVICE, 800, 1600);
        m.tierUsage(Tier.HOST, 100, 6400);

        String text = m.prometheusText();

        assertThat(text).startsWith("""
                # HELP lorastream_adapter_requests_running Requests of the adapter in the running batch.
                # TYPE lorastream_adapter_requests_running gauge
                lorastream_adapter_requests_running{adapter="__base__"} 1
                lorastream_adapter_requests_running{adapter="a"} 2
                lorastream_adapter_requests_running{adapter="b"} 0
                # HELP lorastream_adapter_requests_waiting Requests of the adapter waiting to join the running batch.
                # TYPE lorastream_adapter_requests_waiting gauge
                lorastream_adapter_requests_waiting{adapter="__base__"} 0
                lorastream_adapter_requests_waiting{adapter="a"} 0
                lorastream_adapter_requests_waiting{adapter="b"} 1
                # HELP lorastream_adapter_cache_hits_total Requests that found the adapter in the tier.
                # TYPE lorastream_adapter_cache_hits_total counter
                lorastream_adapter_cache_hits_total{adapter="a",tier="device"} 1
                lorastream_adapter_cache_hits_total{adapter="a",tier="host"} 0
                lorastream_adapter_cache_hits_total{adapter="b",tier="device"} 0
                lorastream_adapter_cache_hits_total{adapter="b",tier="host"} 0
                # HELP lorastream_adapter_cache_misses_total Requests that did not find the adapter in the tier.
                # TYPE lorastream_adapter_cache_misses_total counter
                lorastream_adapter_cache_misses_total{adapter="a",tier="device"} 0
                lorastream_adapter_cache_misses_total{adapter="a",tier="host"} 1
                """);
        assertThat(text).contains("""
                lorastream_adapter_cache_evictions_total{adapter="b",tier="device"} 1
                """);
        assertThat(text).contains("""
                # TYPE lorastream_adapter_load_failures_total counter
                lorastream_adapter_load_failures_total{adapter="a"} 0
                lorastream_adapter_load_failures_total{adapter="b"} 1
                """);
        assertThat(text).contains("""
                # HELP lorastream_adapter_load_seconds Time to load the adapter from the store into host memory.
                # TYPE lorastream_adapter_load_seconds histogram
                lorastream_adapter_load_seconds_bucket{adapter="a",le="0.001"} 0
                lorastream_adapter_load_seconds_bucket{adapter="a",le="0.005"} 0
                lorastream_adapter_load_seconds_bucket{adapter="a",le="0.01"} 0
                lorastream_adapter_load_seconds_bucket{adapter="a",le="0.025"} 1
                lorastream_adapter_load_seconds_bucket{adapter="a",le="0.05"} 1
                lorastream_adapter_load_seconds_bucket{adapter="a",le="0.1"} 1
                lorastream_adapter_load_seconds_bucket{adapter="a",le="0.25"} 1
                lorastream_adapter_load_seconds_bucket{adapter="a",le="0.5"} 1
                lorastream_adapter_load_seconds_bucket{adapter="a",le="1.0"} 1
                lorastream_adapter_load_seconds_bucket{adapter="a",le="2.5"} 1
                lorastream_adapter_load_seconds_bucket{adapter="a",le="5.0"} 2
                lorastream_adapter_load_seconds_bucket{adapter="a",le="10.0"} 2
                lorastream_adapter_load_seconds_bucket{adapter="a",le="30.0"} 2
                lorastream_adapter_load_seconds_bucket{adapter="a",le="+Inf"} 2
                lorastream_adapter_load_seconds_sum{adapter="a"} 3.02
                lorastream_adapter_load_seconds_count{adapter="a"} 2
                """);
        assertThat(text).endsWith("""
                # HELP lorastream_adapter_cache_used_bytes Bytes of adapters the tier holds (device: occupied slots at max rank).
                # TYPE lorastream_adapter_cache_used_bytes gauge
                lorastream_adapter_cache_used_bytes{tier="device"} 800
                lorastream_adapter_cache_used_bytes{tier="host"} 100
                # HELP lorastream_adapter_cache_capacity_bytes Capacity of the tier in bytes.
                # TYPE lorastream_adapter_cache_capacity_bytes gauge
                lorastream_adapter_cache_capacity_bytes{tier="device"} 1600
                lorastream_adapter_cache_capacity_bytes{tier="host"} 6400
                """);
    }

    @Test
    void everyLineIsACommentOrAWellFormedSampleUnderThePrefix() {
        AdapterMetrics m = new AdapterMetrics();
        m.hit(Tier.HOST, "odd\"id\\with\nbreaks");
        m.loaded("x", 1);

        for (String line : m.prometheusText().split("\n")) {
            if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
                assertThat(line.split(" ")[2]).startsWith(AdapterMetrics.PREFIX);
            } else {
                assertThat(line).startsWith(AdapterMetrics.PREFIX).matches(SAMPLE);
            }
        }
        assertThat(m.prometheusText()).contains("lorastream_adapter_cache_hits_total{adapter=\"odd\\\"id\\\\with\\nbreaks\",tier=\"host\"} 1");
    }

    @Test
    void aLoadOnABucketBoundaryCountsInThatBucket() {
        AdapterMetrics m = new AdapterMetrics();
        m.loaded("a", 5_000_000L);

        assertThat(m.prometheusText()).contains("lorastream_adapter_load_seconds_bucket{adapter=\"a\",le=\"0.001\"} 0\n")
                .contains("lorastream_adapter_load_seconds_bucket{adapter=\"a\",le=\"0.005\"} 1\n");
    }
}
