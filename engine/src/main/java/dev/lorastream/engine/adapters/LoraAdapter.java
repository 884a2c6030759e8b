package dev.lorastream.engine.adapters;

import dev.lorastream.engine.model.Projection;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * A validated LoRA adapter in host memory.
 *
 * @param id          the adapter id (its directory name)
 * @param version     the declared version, or {@code sha256:<12 hex>} of its files
 * @param contentHash SHA-256 of its files, hex
 * @param weights     projection -> layer -> weights; layers without an entry are not adapted
 */
public record LoraAdapter(String id, Path dir, AdapterConfig config, AdapterMetadata metadata, String version, String contentHash,
                          Map<Projection, Map<Integer, LoraWeights>> weights) {

    /** The largest rank this adapter uses for a projection, 0 when it does not adapt it. */
    public int maxRank(Projection p) {
        return weights.getOrDefault(p, Map.of()).values().stream().mapToInt(LoraWeights::rank).max().orElse(0);
    }

    public Set<Projection> targets() { return weights.keySet(); }

    /** Bytes of its A and B weights. */
    public long sizeBytes() {
        return weights.values().stream().flatMap(m -> m.values().stream()).mapToLong(w -> 4L * (w.a().length + w.b().length)).sum();
    }
}
