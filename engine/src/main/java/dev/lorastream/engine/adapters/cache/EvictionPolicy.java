package dev.lorastream.engine.adapters.cache;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Which adapter a full tier gives up. The cache tells the policy what enters, is used and
 * leaves a tier; the policy only orders candidates, the cache decides which are evictable
 * (never pinned ones, never a device slot the running batch uses). One instance per tier.
 */
public interface EvictionPolicy {

    /** The adapter entered the tier. */
    void admitted(String adapterId);

    /** The adapter was used from the tier (a hit, or an explicit touch). */
    void touched(String adapterId);

    /** The adapter left the tier. */
    void removed(String adapterId);

    /** The adapter to give up among those {@code evictable} accepts; empty when none is. */
    Optional<String> victim(Predicate<String> evictable);

    /** A policy factory by configuration name: {@code lru} or {@code lfu}. */
    static Supplier<EvictionPolicy> named(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "lru" -> LruPolicy::new;
            case "lfu" -> LfuPolicy::new;
            default -> throw new IllegalArgumentException(CacheConfig.EVICTION_POLICY + " '" + name + "' is not known (lru, lfu)");
        };
    }
}
