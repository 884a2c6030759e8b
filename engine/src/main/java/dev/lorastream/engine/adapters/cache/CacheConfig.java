package dev.lorastream.engine.adapters.cache;

import java.util.function.Supplier;

/**
 * Capacities of the adapter cache's tiers in bytes, and its eviction policy. Resolved against
 * the backbone at start-up ({@link #resolve}), where contradictions are refused naming the keys.
 *
 * @param deviceBytes    bytes of LoRA bank rows on the device; each slot holds one adapter at the
 *                       maximum rank, so this sets the slot count; 0 picks {@value #DEFAULT_DEVICE_SLOTS} slots
 * @param hostBytes      bytes of parsed adapter weights kept in host memory; 0 picks
 *                       {@value #DEFAULT_HOST_FACTOR} × the device tier
 * @param evictionPolicy policy of both tiers, by name: {@code lfu} (the default: least frequently used,
 *                       with aging; keeps the popular adapters under skewed traffic) or {@code lru}
 */
public record CacheConfig(long deviceBytes, long hostBytes, String evictionPolicy) {
    public static final String DEVICE_BYTES = "adapter.cache.device.bytes";
    public static final String HOST_BYTES = "adapter.cache.host.bytes";
    public static final String EVICTION_POLICY = "adapter.cache.eviction.policy";
    /** The key of the largest accepted LoRA rank, which sizes a device slot. */
    public static final String MAX_RANK = "adapter.max.rank";
    public static final int DEFAULT_DEVICE_SLOTS = 8;
    public static final int DEFAULT_HOST_FACTOR = 4;
    public static final String DEFAULT_POLICY = "lfu";
    public static final CacheConfig DEFAULT = new CacheConfig(0, 0, DEFAULT_POLICY);

    public CacheConfig {
        if (deviceBytes < 0) throw new IllegalArgumentException(DEVICE_BYTES + " must be 0 (default) or positive, got " + deviceBytes);
        if (hostBytes < 0) throw new IllegalArgumentException(HOST_BYTES + " must be 0 (default) or positive, got " + hostBytes);
        EvictionPolicy.named(evictionPolicy);
    }

    public static CacheConfig ofBytes(long deviceBytes, long hostBytes) {
        return new CacheConfig(deviceBytes, hostBytes, DEFAULT_POLICY);
    }

    public CacheConfig withPolicy(String name) { return new CacheConfig(deviceBytes, hostBytes, name); }

    public Supplier<EvictionPolicy> policy() { return EvictionPolicy.named(evictionPolicy); }

    /**
     * The tiers' sizes for a backbone whose device slot (one adapter at rank {@code maxRank})
     * takes {@code slotBytes}.
     *
     * @throws IllegalArgumentException naming the keys when the device tier cannot hold one
     *                                  adapter at the maximum rank or the host tier is smaller than the device tier
     */
    public Capacities resolve(long slotBytes, int maxRank) {
        if (slotBytes <= 0) throw new IllegalArgumentException("slot bytes must be positive, got " + slotBytes);
        long device = deviceBytes > 0 ? deviceBytes : Math.multiplyExact(slotBytes, DEFAULT_DEVICE_SLOTS);
        if (device < slotBytes) {
            throw new IllegalArgumentException(DEVICE_BYTES + " = " + device + " cannot hold one adapter at " + MAX_RANK + " = " + maxRank
                    + " (" + slotBytes + " bytes per device slot for this backbone); raise " + DEVICE_BYTES + " or lower " + MAX_RANK);
        }
        long host = hostBytes > 0 ? hostBytes : Math.multiplyExact(device, DEFAULT_HOST_FACTOR);
        if (host < device) {
            throw new IllegalArgumentException(HOST_BYTES + " = " + host + " is smaller than " + DEVICE_BYTES + " = " + device
                    + "; the host tier must be at least as large as the device tier");
        }
        long slots = device / slotBytes;
        if (slots > Integer.MAX_VALUE - 1) throw new IllegalArgumentException(DEVICE_BYTES + " = " + device + " makes more slots than a bank can index");
        return new Capacities((int) slots, slotBytes, slots * slotBytes, host);
    }

    /**
     * Resolved tier sizes.
     *
     * @param deviceSlots bank slots for adapters (slot 0, the plain backbone, comes on top)
     * @param slotBytes   bytes of one slot: one adapter at the maximum rank on every projection
     * @param deviceBytes {@code deviceSlots × slotBytes} (the configured bytes rounded down to whole slots)
     * @param hostBytes   capacity of the host tier
     */
    public record Capacities(int deviceSlots, long slotBytes, long deviceBytes, long hostBytes) {
        public Capacities {
            if (deviceSlots < 1) throw new IllegalArgumentException("the device tier needs at least one slot");
            if (hostBytes < deviceBytes) throw new IllegalArgumentException("host bytes " + hostBytes + " < device bytes " + deviceBytes);
        }
    }
}
