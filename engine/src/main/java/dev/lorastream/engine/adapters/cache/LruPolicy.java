package dev.lorastream.engine.adapters.cache;

import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.SequencedSet;
import java.util.function.Predicate;

/** Least recently used first. Not thread-safe: the cache calls it under its lock. */
public final class LruPolicy implements EvictionPolicy {
    /** Oldest first. */
    private final SequencedSet<String> order = new LinkedHashSet<>();

    @Override
    public void admitted(String adapterId) {
        order.remove(adapterId);
        order.addLast(adapterId);
    }

    @Override
    public void touched(String adapterId) {
        if (order.remove(adapterId)) order.addLast(adapterId);
    }

    @Override
    public void removed(String adapterId) {
        order.remove(adapterId);
    }

    @Override
    public Optional<String> victim(Predicate<String> evictable) {
        for (String id : order) if (evictable.test(id)) return Optional.of(id);
        return Optional.empty();
    }

    @Override
    public String toString() { return "lru" + order; }
}
