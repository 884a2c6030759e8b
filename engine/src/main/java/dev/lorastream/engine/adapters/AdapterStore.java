package dev.lorastream.engine.adapters;

import java.nio.file.Path;
import java.util.List;

/** Where adapters live before they are loaded (files now, object storage later). */
public interface AdapterStore {
    /** Ids of the adapters the store holds, sorted. */
    List<String> ids();

    /** A local directory with the adapter's PEFT files (adapter_config.json, adapter_model.safetensors, optional lorastream.json). */
    Path directory(String id);

    /** Whether the store holds an adapter of that id (without listing them all where the store can). */
    default boolean contains(String id) {
        return id != null && ids().contains(id);
    }

    /**
     * Puts the PEFT files of {@code source} under {@code id}, with this sidecar, replacing what the
     * id held before in one step: a reader sees the old files or the new ones, never a mix.
     *
     * @throws UnsupportedOperationException when the store is read-only
     */
    default void put(String id, Path source, AdapterMetadata metadata) {
        throw new UnsupportedOperationException(this + " is read-only");
    }

    /** Removes the adapter; false when the store did not hold it. */
    default boolean remove(String id) {
        throw new UnsupportedOperationException(this + " is read-only");
    }
}
