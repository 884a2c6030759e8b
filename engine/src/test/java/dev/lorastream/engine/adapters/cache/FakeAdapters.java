package dev.lorastream.engine.adapters.cache;

import dev.lorastream.engine.adapters.AdapterMetadata;
import dev.lorastream.engine.adapters.AdapterValidationException;
import dev.lorastream.engine.adapters.LoraAdapter;
import dev.lorastream.engine.adapters.LoraWeights;
import dev.lorastream.engine.model.Projection;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** An in-memory adapter store for cache tests: adapters of given sizes, some broken, with load counts and a record of device writes. */
final class FakeAdapters implements AdapterCache.Source, AdapterCache.DeviceWriter {
    private final Map<String, Long> sizes = new HashMap<>();
    private final Map<String, String> broken = new HashMap<>();
    private final Map<String, AtomicInteger> loads = new ConcurrentHashMap<>();
    final List<String> writes = new ArrayList<>();

    FakeAdapters add(String id, long bytes) {
        sizes.put(id, bytes);
        return this;
    }

    FakeAdapters broken(String id, String reason) {
        broken.put(id, reason);
        return this;
    }

    /** A LoRA adapter whose weights take exactly {@code bytes} (a multiple of 4). */
    static LoraAdapter adapter(String id, long bytes) {
        LoraWeights w = new LoraWeights(1, 1f, new float[(int) (bytes / 4)], new float[0]);
        return new LoraAdapter(id, Path.of(id), null, AdapterMetadata.NONE, "v1", "hash-" + id, Map.of(Projection.Q_PROJ, Map.of(0, w)));
    }

    @Override
    public LoraAdapter load(String id) {
        loads.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
        if (broken.containsKey(id)) throw new AdapterValidationException(Path.of(id, "adapter_config.json"), "use_dora", broken.get(id));
        Long bytes = sizes.get(id);
        if (bytes == null) throw new IllegalArgumentException("no adapter " + id);
        return adapter(id, bytes);
    }

    int loads(String id) {
        AtomicInteger n = loads.get(id);
        return n == null ? 0 : n.get();
    }

    @Override
    public synchronized void write(int slot, LoraAdapter adapter) {
        writes.add(slot + ":" + adapter.id());
    }
}
