package dev.lorastream.launcher;

import dev.lorastream.engine.ContributorShare;
import dev.lorastream.engine.adapters.AdapterLoader;
import dev.lorastream.engine.adapters.AdapterMetadata;
import dev.lorastream.engine.adapters.AdapterValidationException;
import dev.lorastream.engine.adapters.FileAdapterStore;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.ingest.AdapterAdmin;
import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.AdapterIds;
import dev.lorastream.schemas.registry.SchemaRegistryClient;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Adds, replaces and removes adapters while the pipeline serves ({@code ./pipeline adapters}, and
 * the HTTP endpoint's vLLM-style requests in {@code up}). An add stages the PEFT files with their
 * sidecar, validates them with the engine's own loader against the backbone (shapes, targets, rank,
 * base model, contributor shares: the reason named on refusal), puts them into the directory store
 * in one rename, publishes the entry on adapters.catalog, and waits until the catalog shows that
 * version (the workers follow the same topic and rescan the store). A remove takes the adapter out
 * of the store first, then publishes a tombstone.
 */
final class AdapterManager implements AdapterAdmin {
    private static final Duration VISIBLE_WITHIN = Duration.ofSeconds(15);

    private final Connection connection;
    private final SchemaRegistryClient registry;
    private final ModelConfig backbone;
    private final AdapterLoader loader;
    private final FileAdapterStore store;
    private final Supplier<Map<String, AdapterDescriptor>> catalog;

    /**
     * @param catalog the catalog as its reader sees it now (the HTTP client's view in {@code up}; a fresh read for the command)
     */
    AdapterManager(Connection connection, SchemaRegistryClient registry, Path modelDir, Path adapterDir, int maxLoraRank,
                   Supplier<Map<String, AdapterDescriptor>> catalog) {
        this.connection = connection;
        this.registry = registry;
        this.backbone = ModelConfig.read(modelDir);
        this.loader = AdapterLoader.forBackbone(backbone, modelDir, maxLoraRank);
        this.store = new FileAdapterStore(adapterDir);
        this.catalog = catalog;
    }

    @Override
    public synchronized AdapterDescriptor add(String id, Path source, Map<String, Double> contributors, String description) {
        AdapterIds.problem(id).ifPresent(why -> { throw new Refused("id", why); });
        if (!Files.isDirectory(source)) throw new Refused("path", "'" + source + "' is not a directory");
        AdapterMetadata given;
        try {
            AdapterMetadata own = AdapterMetadata.read(source);
            List<ContributorShare> shares = new ArrayList<>();
            contributors.forEach((c, share) -> shares.add(new ContributorShare(c, share)));
            given = new AdapterMetadata(own.version(), description != null ? description : own.description(),
                    shares.isEmpty() ? own.contributors() : shares);
        } catch (AdapterValidationException e) {
            throw new Refused("path", e.getMessage());
        }
        Path staged = stage(source, given);
        try {
            try {
                loader.load(id, staged); // the engine's own checks, on exactly what the store will hold
            } catch (AdapterValidationException e) {
                throw new Refused(e.getMessage().contains(AdapterMetadata.FILE) ? "contributors" : "path",
                        e.getMessage().replace(staged.toString(), source.toString()));
            }
            if (given.version() != null && store.contains(id)) {
                String declaredNow = AdapterMetadata.read(store.directory(id)).version();
                if (given.version().equals(declaredNow) && !AdapterLoader.contentHash(staged).equals(AdapterLoader.contentHash(store.directory(id)))) {
                    throw new Refused("version", "'" + id + "' is already served as version " + declaredNow + " with other files; declare a new"
                            + " version in " + AdapterMetadata.FILE + " (or none: the files' hash then names it), so that attribution can tell them apart");
                }
            }
            store.put(id, staged, given);
        } finally {
            deleteQuietly(staged);
        }
        AdapterDescriptor entry = AdapterCatalog.describe(id, store.directory(id), backbone.name());
        AdapterCatalog.publish(connection, registry, List.of(entry));
        awaitCatalog(id, entry.getVersion());
        return entry;
    }

    @Override
    public synchronized boolean remove(String id) {
        boolean inStore = store.remove(id);
        boolean inCatalog = catalog.get().containsKey(id);
        if (!inStore && !inCatalog) return false;
        AdapterCatalog.tombstone(connection, registry, id);
        awaitCatalog(id, null);
        return true;
    }

    @Override
    public List<AdapterDescriptor> list() {
        return catalog.get().values().stream().sorted(Comparator.comparing(AdapterDescriptor::getAdapterId)).toList();
    }

    /** The store the adapters go into. */
    Path adapterDir() { return store.root(); }

    /** Until the catalog shows this version of the adapter (null: shows no entry for it). */
    private void awaitCatalog(String id, String version) {
        long deadline = System.nanoTime() + VISIBLE_WITHIN.toNanos();
        while (true) {
            AdapterDescriptor d = catalog.get().get(id);
            if (version == null ? d == null : d != null && version.equals(d.getVersion())) return;
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("published, but adapters.catalog does not show " + (version == null ? id + " removed" : id + " " + version)
                        + " within " + VISIBLE_WITHIN.toSeconds() + " s");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for adapters.catalog", e);
            }
        }
    }

    /** The source's regular files and the sidecar to be stored, in a temporary folder. */
    private static Path stage(Path source, AdapterMetadata metadata) {
        try {
            Path dir = Files.createTempDirectory("lorastream-adapter-");
            try (Stream<Path> files = Files.list(source)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    if (!f.getFileName().toString().equals(AdapterMetadata.FILE)) Files.copy(f, dir.resolve(f.getFileName()));
                }
            }
            metadata.write(dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stage " + source + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a temporary folder left behind
        }
    }
}
