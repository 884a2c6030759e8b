package dev.lorastream.engine.adapters.cache;

import dev.lorastream.engine.adapters.cache.CacheConfig.Capacities;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CacheConfigTest {
    @Test
    void defaultsGiveEightSlotsOnTheDeviceAndFourTimesThatInHostMemory() {
        Capacities c = CacheConfig.DEFAULT.resolve(1000, 64);

        assertThat(c).isEqualTo(new Capacities(8, 1000, 8000, 32000));
    }

    @Test
    void deviceBytesAreRoundedDownToWholeSlots() {
        Capacities c = CacheConfig.ofBytes(2500, 2500).resolve(1000, 64);

        assertThat(c.deviceSlots()).isEqualTo(2);
        assertThat(c.deviceBytes()).isEqualTo(2000);
        assertThat(c.hostBytes()).isEqualTo(2500);
    }

    @Test
    void aDeviceTierThatCannotHoldOneAdapterAtMaxRankIsRefusedNamingTheKeys() {
        assertThatThrownBy(() -> CacheConfig.ofBytes(999, 10_000).resolve(1000, 64))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("adapter.cache.device.bytes = 999").hasMessageContaining("adapter.max.rank = 64")
                .hasMessageContaining("1000 bytes per device slot");
    }

    @Test
    void aHostTierSmallerThanTheDeviceTierIsRefusedNamingBothKeys() {
        assertThatThrownBy(() -> CacheConfig.ofBytes(4000, 3000).resolve(1000, 64))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("adapter.cache.host.bytes = 3000").hasMessageContaining("adapter.cache.device.bytes = 4000");
    }

    @Test
    void negativeCapacitiesAndUnknownPoliciesAreRefused() {
        assertThatThrownBy(() -> CacheConfig.ofBytes(-1, 0)).hasMessageContaining("adapter.cache.device.bytes");
        assertThatThrownBy(() -> CacheConfig.ofBytes(0, -1)).hasMessageContaining("adapter.cache.host.bytes");
        assertThatThrownBy(() -> new CacheConfig(0, 0, "random")).hasMessageContaining("adapter.cache.eviction.policy 'random' is not known");
    }
}
