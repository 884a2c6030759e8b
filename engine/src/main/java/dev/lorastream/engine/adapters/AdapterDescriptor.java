package dev.lorastream.engine.adapters;

import dev.lorastream.engine.ContributorShare;

import java.nio.file.Path;
import java.util.List;

/**
 * What attribution needs of an adapter, without its weights: its version and contributors.
 *
 * @param version     the declared version, or {@code sha256:<12 hex>} of its files
 * @param contentHash SHA-256 of its files, hex
 */
public record AdapterDescriptor(String id, String version, String contentHash, List<ContributorShare> contributors) {
    public AdapterDescriptor {
        contributors = List.copyOf(contributors);
    }

    public static AdapterDescriptor of(LoraAdapter a) {
        return new AdapterDescriptor(a.id(), a.version(), a.contentHash(), a.metadata().contributors());
    }

    /** Reads the sidecar and hashes the files of an adapter directory (its weights are not parsed). */
    public static AdapterDescriptor read(String id, Path dir) {
        AdapterMetadata metadata = AdapterMetadata.read(dir);
        String hash = AdapterLoader.contentHash(dir);
        return new AdapterDescriptor(id, AdapterLoader.version(metadata, hash), hash, metadata.contributors());
    }
}
