package dev.lorastream.schemas.registry;

import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A registry client that remembers, in a folder, every schema id and every registration the registry answered,
 * and answers from there when the registry cannot be reached (a retriable failure, after the delegate's own
 * retries). A component restarted while the registry is down then still reads and writes every record whose
 * schema id any component on this host has seen before, instead of stopping until the registry is back (the
 * fault matrix's registry_down scenario: 2.4 minutes of no routing before). The registry stays the authority:
 * the folder is read only when it fails, and what is written there is what it said. Schema ids are immutable in a
 * registry (Confluent's and Apicurio's contract), so an answer remembered is an answer that still holds; a
 * registry wiped and rebuilt with other ids under the same URL is the one case this would mislead, and only while
 * that registry is down. A schema id never seen here cannot be read while the registry is down: that record
 * waits for it (as before), as nothing else could decode it. Once the registry was found unreachable, for 10 s what is
 * remembered is used without asking it again, so a component does not spend the client's retries (~2 s) on every id.
 *
 * <p>The folder is {@code <dir>/<registry url made a file name>/}: {@code ids/<id>.avsc} and
 * {@code registrations/<sha-256 of subject and schema>.id}, each written to a temporary file and moved into place,
 * so processes sharing the folder never read half a file. {@link #connect(String)} picks the folder: the
 * {@value #DIR_ENV} environment variable (or the system property {@code lorastream.schema.cache.dir}), else {@code java.io.tmpdir/lorastream-schema-cache}; {@code none}
 * turns remembering off.
 */
public final class RememberingSchemaRegistryClient implements SchemaRegistryClient {
    /** Where the registry's answers are remembered; {@code none} for nowhere. */
    public static final String DIR_ENV = "LORASTREAM_SCHEMA_CACHE_DIR";
    private static final Logger log = LoggerFactory.getLogger(RememberingSchemaRegistryClient.class);

    private final SchemaRegistryClient registry;
    private final Path root;
    private final Path ids;
    private final Path registrations;
    private final Map<Integer, Schema> byId = new ConcurrentHashMap<>();
    private final Map<String, Integer> registered = new ConcurrentHashMap<>();
    /** Until when (nanoTime) remembered answers are used without asking: the registry was just found unreachable. */
    private volatile long unreachableUntil = System.nanoTime();
    private static final long SKIP_NANOS = 10_000_000_000L;

    /** Remembers {@code registry}'s answers under {@code dir}. */
    public RememberingSchemaRegistryClient(SchemaRegistryClient registry, Path dir) {
        this.registry = registry;
        this.root = dir.resolve(fileName(registry.describe()));
        this.ids = root.resolve("ids");
        this.registrations = root.resolve("registrations");
    }

    /**
     * The client every component uses: the registry at {@code url} over HTTP, its answers remembered in the folder
     * {@value #DIR_ENV} names (or {@code java.io.tmpdir/lorastream-schema-cache}), unless that is {@code none}.
     */
    public static SchemaRegistryClient connect(String url) {
        SchemaRegistryClient http = new HttpSchemaRegistryClient(url);
        String dir = System.getProperty("lorastream.schema.cache.dir", System.getenv(DIR_ENV));
        if ("none".equalsIgnoreCase(dir)) return http;
        Path folder = dir == null || dir.isBlank() ? Path.of(System.getProperty("java.io.tmpdir"), "lorastream-schema-cache") : Path.of(dir);
        return new RememberingSchemaRegistryClient(http, folder);
    }

    @Override
    public int register(String subject, Schema schema) {
        String key = subject + '\n' + schema;
        Integer known = registered.get(key);
        if (known != null) return known;
        Path file = registrations.resolve(sha256(key) + ".id");
        int id = answer(file, () -> registry.register(subject, schema), given -> {
            write(file, Integer.toString(given));
            write(ids.resolve(given + ".avsc"), schema.toString());
        }, text -> Integer.parseInt(text.trim()), "the id it gave " + subject);
        registered.put(key, id);
        byId.putIfAbsent(id, schema);
        return id;
    }

    @Override
    public Schema schemaById(int id) {
        Schema known = byId.get(id);
        if (known != null) return known;
        Path file = ids.resolve(id + ".avsc");
        Schema schema = answer(file, () -> registry.schemaById(id), given -> write(file, given.toString()),
                text -> new Schema.Parser().parse(text), "schema id " + id);
        byId.put(id, schema);
        return schema;
    }

    /**
     * The registry's answer, remembered ({@code remember}); when the registry cannot be reached, or could not moments
     * ago, the answer remembered in {@code file} ({@code recall}), if there is one. Refusals are thrown as they came.
     */
    private <T> T answer(Path file, Supplier<T> ask, Consumer<T> remember, Function<String, T> recall, String what) {
        if (recentlyUnreachable() && Files.exists(file)) return recall.apply(read(file));
        try {
            T answer = ask.get();
            remember.accept(answer);
            return answer;
        } catch (SchemaRegistryException e) {
            if (!e.isRetriable()) throw e;
            unreachableUntil = System.nanoTime() + SKIP_NANOS;
            if (!Files.exists(file)) throw e;
            log.warn("schema registry {} unreachable; using {} as it answered earlier ({})", registry.describe(), what, file);
            return recall.apply(read(file));
        }
    }

    /** The id the registry gave this subject and schema earlier, remembered here, without asking it. */
    @Override
    public OptionalInt rememberedId(String subject, Schema schema) {
        String key = subject + '\n' + schema;
        Integer known = registered.get(key);
        if (known != null) return OptionalInt.of(known);
        Path file = registrations.resolve(sha256(key) + ".id");
        return Files.exists(file) ? OptionalInt.of(Integer.parseInt(read(file).trim())) : OptionalInt.empty();
    }

    @Override
    public void setCompatibility(String subject, Compatibility level) { registry.setCompatibility(subject, level); }

    @Override
    public Compatibility compatibility(String subject) { return registry.compatibility(subject); }

    @Override
    public boolean isCompatible(String subject, Schema schema) { return registry.isCompatible(subject, schema); }

    @Override
    public String describe() { return registry.describe(); }

    /** Whether the registry was found unreachable in the last 10 s: then what is remembered is used without waiting on retries. */
    private boolean recentlyUnreachable() { return System.nanoTime() - unreachableUntil < 0; }

    /** A registry URL as one file name: what is not a letter, digit, dot or dash becomes '_'. */
    static String fileName(String url) {
        return url.replaceFirst("^[a-z]+://", "").replaceAll("[^A-Za-z0-9.-]", "_");
    }

    /**
     * Remembers what the registry just answered. When a remembered answer differs, the registry under this URL was
     * rebuilt (new ids, e.g. a development registry whose storage was deleted): everything remembered of it is forgotten,
     * since none of it can be trusted any more.
     */
    private void write(Path file, String text) {
        try {
            if (Files.exists(file)) {
                if (Files.readString(file, StandardCharsets.UTF_8).equals(text)) return;
                log.warn("schema registry {} answered {} differently than remembered: it was rebuilt; forgetting what was remembered of it ({})",
                        registry.describe(), file.getFileName(), root);
                forgetAll();
            }
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | UncheckedIOException e) {
            // remembering is a help, not a duty: the registry answered, and the caller gets its answer
            log.warn("could not remember {} ({}); going on without it", file, e.toString());
        }
    }

    private void forgetAll() throws IOException {
        for (Path folder : new Path[]{ids, registrations}) {
            if (!Files.isDirectory(folder)) continue;
            try (var files = Files.list(folder)) {
                for (Path f : (Iterable<Path>) files::iterator) Files.deleteIfExists(f);
            }
        }
        byId.clear();
        registered.clear();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading remembered registry answer " + file, e);
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
