package dev.lorastream.platform;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * The platform of the integration tests: one per JVM, started on first use and closed by a shutdown
 * hook. Embedded (in a temporary directory) unless a Docker engine is reachable; the system property
 * {@value #MODE_PROPERTY} = {@code embedded} | {@code containers} decides instead when set.
 */
public final class TestPlatform {
    public static final String MODE_PROPERTY = "lorastream.platform";
    private static final Logger log = LoggerFactory.getLogger(TestPlatform.class);
    private static KafkaPlatform shared;

    /** Which face the tests get. */
    public enum Mode { EMBEDDED, CONTAINERS }

    private TestPlatform() {}

    /** The JVM-wide platform, started on the first call. */
    public static synchronized KafkaPlatform shared() {
        if (shared == null) {
            Mode mode = mode(System.getProperty(MODE_PROPERTY), TestPlatform::dockerReachable);
            long t0 = System.nanoTime();
            shared = switch (mode) {
                case CONTAINERS -> ContainerPlatform.start();
                case EMBEDDED -> startEmbedded();
            };
            KafkaPlatform started = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "test-platform-shutdown"));
            log.info("test platform ready in {} ms: {}", (System.nanoTime() - t0) / 1_000_000, started.describe());
        }
        return shared;
    }

    /** The mode for a property value (null or blank: ask whether Docker is reachable). */
    static Mode mode(String property, BooleanSupplier dockerReachable) {
        if (property == null || property.isBlank() || property.equalsIgnoreCase("auto")) {
            return dockerReachable.getAsBoolean() ? Mode.CONTAINERS : Mode.EMBEDDED;
        }
        return switch (property.trim().toLowerCase(Locale.ROOT)) {
            case "embedded" -> Mode.EMBEDDED;
            case "containers", "container", "docker" -> Mode.CONTAINERS;
            default -> throw new IllegalArgumentException("-D" + MODE_PROPERTY + "=" + property
                    + " is not a platform: use embedded or containers (or leave it unset to use containers when Docker is reachable)");
        };
    }

    /** Whether a Docker engine answers; without a hint of one (socket, DOCKER_HOST) Testcontainers is not asked. */
    static boolean dockerReachable() {
        boolean hinted = System.getenv("DOCKER_HOST") != null
                || Files.exists(Path.of("/var/run/docker.sock"))
                || Files.exists(Path.of(System.getProperty("user.home"), ".docker", "run", "docker.sock"))
                || Files.exists(Path.of(System.getProperty("user.home"), ".testcontainers.properties"));
        if (!hinted) return false;
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    private static KafkaPlatform startEmbedded() {
        Path dir;
        try {
            dir = Files.createTempDirectory("lorastream-it-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for the embedded platform", e);
        }
        EmbeddedPlatform platform = EmbeddedPlatform.start(dir);
        return new KafkaPlatform() {
            @Override public String bootstrapServers() { return platform.bootstrapServers(); }
            @Override public String schemaRegistryUrl() { return platform.schemaRegistryUrl(); }
            @Override public String describe() { return platform.describe(); }
            @Override public void close() {
                platform.close();
                deleteQuietly(dir);
            }
        };
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a temp dir: the OS cleans up eventually
        }
    }
}
