package dev.lorastream.router.internal;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

import java.time.Duration;
import java.util.Optional;

/**
 * The request ids one router task has routed within the dedupe window, with the tenant that used each first: a window
 * store (RocksDB, changelogged, so that under exactly-once the id and the routed request are committed together) keyed
 * by request id, written at the router's wall-clock time; ids older than the window are not looked at and their
 * segments are dropped as time passes, no scan of all ids needed.
 */
public final class RequestIds {
    public static final String STORE = "request-ids";

    /** The first use of a request id: who and when (epoch ms). */
    public record FirstUse(String tenant, long atMs) {}

    private final WindowStore<String, String> store;
    private final Duration window;

    public RequestIds(WindowStore<String, String> store, Duration window) {
        this.store = store;
        this.window = window;
    }

    /** The store the router's processor uses, keeping ids for {@code window}. */
    public static StoreBuilder<WindowStore<String, String>> storeBuilder(Duration window) {
        return Stores.windowStoreBuilder(Stores.persistentWindowStore(STORE, window, window, false), Serdes.String(), Serdes.String());
    }

    /**
     * The earlier use of {@code requestId} within the window before {@code nowMs}, if any; otherwise records this one
     * (by {@code tenant}, at {@code nowMs}) and returns empty.
     */
    public Optional<FirstUse> claim(String requestId, String tenant, long nowMs) {
        try (WindowStoreIterator<String> seen = store.fetch(requestId, Math.max(0, nowMs - window.toMillis() + 1), nowMs)) {
            if (seen.hasNext()) {
                var first = seen.next();
                return Optional.of(new FirstUse(first.value, first.key));
            }
        }
        store.put(requestId, tenant, nowMs);
        return Optional.empty();
    }

    public Duration window() { return window; }
}
