package dev.lorastream.platform;

import dev.lorastream.platform.internal.ChildProcess;
import dev.lorastream.platform.internal.FreePorts;
import dev.lorastream.platform.internal.ParentWatch;
import dev.lorastream.platform.internal.StateFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Apicurio Registry 3.3.3 (its prebuilt Quarkus app) as a child process of this JVM, bound to
 * 127.0.0.1, storing its schemas in an H2 file under the work directory so they survive restarts.
 * Clients use its Confluent-compatible API at {@link #schemaRegistryUrl()}.
 *
 * <p>The app's directory (with {@code quarkus-run.jar}) comes from the constructor or the system
 * property {@value #HOME_PROPERTY}; {@code mvn -pl platform install} unpacks it to
 * {@code platform/target/apicurio}. It needs Java 21+, and runs on this JVM's {@code java}.
 * {@link #close()} and a shutdown hook stop it; should this JVM die without running hooks, the child
 * ends itself ({@link ParentWatch}).
 */
public final class ApicurioRegistry implements AutoCloseable {
    public static final String HOME_PROPERTY = "apicurio.home";
    public static final String CCOMPAT_PATH = "/apis/ccompat/v7";
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(120);
    static final List<String> JVM_OPTIONS = List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-XX:+ExitOnOutOfMemoryError");
    private static final Logger log = LoggerFactory.getLogger(ApicurioRegistry.class);
    private static final int MIN_JAVA = 21;
    private static final String QUARKUS_MAIN = "io.quarkus.bootstrap.runner.QuarkusEntryPoint";
    private static final String WATCH_DIR = "parent-watch";

    private final Path workDir;
    private final Path home;
    private final int requestedPort;
    private final int requestedManagementPort;
    private final Duration startTimeout;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private volatile Process process;
    private Thread shutdownHook;
    private int port;
    private int managementPort;

    /** The registry under {@code workDir}, app from {@code -Dapicurio.home}, on free ports. */
    public ApicurioRegistry(Path workDir) { this(workDir, null, 0, 0, DEFAULT_START_TIMEOUT); }

    /**
     * @param home           the unpacked app (null: the {@value #HOME_PROPERTY} system property)
     * @param port           HTTP port on 127.0.0.1; 0 picks a free one (the last run's when still free)
     * @param managementPort port of the health endpoints; 0 picks a free one
     * @param startTimeout   how long {@link #start()} waits for {@code /health/ready}
     */
    public ApicurioRegistry(Path workDir, Path home, int port, int managementPort, Duration startTimeout) {
        this.workDir = workDir.toAbsolutePath();
        this.home = resolveHome(home);
        this.requestedPort = port;
        this.requestedManagementPort = managementPort;
        this.startTimeout = startTimeout;
    }

    /**
     * The app directory: {@code explicit} when given, else {@code -Dapicurio.home}; fails with a message
     * naming the property and the path when it holds no {@code quarkus-run.jar}.
     */
    public static Path resolveHome(Path explicit) {
        Path home = explicit;
        String source = "the given Apicurio home";
        if (home == null) {
            String property = System.getProperty(HOME_PROPERTY);
            if (property == null || property.isBlank()) {
                throw new IllegalStateException("Apicurio Registry location unknown: system property " + HOME_PROPERTY
                        + " is not set. Run `mvn -pl platform install` (it unpacks the registry to platform/target/apicurio)"
                        + " and pass -D" + HOME_PROPERTY + "=<that directory>.");
            }
            home = Path.of(property);
            source = "system property " + HOME_PROPERTY;
        }
        home = home.toAbsolutePath().normalize();
        if (!Files.isRegularFile(home.resolve("quarkus-run.jar"))) {
            throw new IllegalStateException("Apicurio Registry not found: " + source + " points to " + home
                    + ", which has no quarkus-run.jar. Run `mvn -pl platform install` (it unpacks"
                    + " io.apicurio:apicurio-registry-app to platform/target/apicurio) or set -D" + HOME_PROPERTY
                    + " to the unpacked directory.");
        }
        return home;
    }

    /** Starts the process and waits until {@code /health/ready} answers 200. */
    public synchronized ApicurioRegistry start() {
        if (process != null) {
            if (process.isAlive()) return this;
            stop(); // it died since: forget it and its hook, start a new one
        }
        long t0 = System.nanoTime();
        StateFile state = StateFile.load(workDir.resolve("registry.state"));
        port = FreePorts.choose(requestedPort, port != 0 ? port : state.port("port"));
        managementPort = FreePorts.choose(requestedManagementPort,
                managementPort != 0 ? managementPort : state.port("management.port"));
        if (managementPort == port) managementPort = FreePorts.pick();
        state.set("port", port).set("management.port", managementPort).save("Apicurio Registry ports, reused on restart");

        ProcessBuilder builder = new ProcessBuilder(command())
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()));
        try {
            Files.createDirectories(workDir.resolve("tmp"));
            installParentWatch();
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start Apicurio Registry (" + String.join(" ", builder.command()) + ")", e);
        }
        shutdownHook = new Thread(this::killQuietly, "apicurio-registry-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        awaitReady();
        log.info("Apicurio Registry up at {} in {} ms (pid {}, log {})", schemaRegistryUrl(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), process.pid(), logFile());
        return this;
    }

    /** Stops the process tree; the H2 file stays for a later {@link #start()}. */
    public synchronized void stop() {
        if (process == null) return;
        ChildProcess.destroyTree(process.toHandle(), 10_000);
        process = null;
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs anyway
            }
            shutdownHook = null;
        }
    }

    @Override
    public void close() { stop(); }

    public synchronized boolean isRunning() { return process != null && process.isAlive(); }

    /** The registry root, {@code http://127.0.0.1:PORT}. */
    public synchronized String url() { return "http://127.0.0.1:" + port; }

    /** Its Confluent-compatible API, {@code http://127.0.0.1:PORT/apis/ccompat/v7}. */
    public String schemaRegistryUrl() { return url() + CCOMPAT_PATH; }

    public synchronized int port() { return port; }

    public synchronized int managementPort() { return managementPort; }

    public Path home() { return home; }

    public Path workDir() { return workDir; }

    /** The process's stdout and stderr, appended to across restarts. */
    public Path logFile() { return workDir.resolve("registry.log"); }

    List<String> command() {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaExecutable());
        cmd.addAll(JVM_OPTIONS);
        cmd.add("-Djava.io.tmpdir=" + workDir.resolve("tmp"));
        cmd.add("-Dquarkus.http.host=127.0.0.1");
        cmd.add("-Dquarkus.http.port=" + port);
        cmd.add("-Dquarkus.management.host=127.0.0.1");
        cmd.add("-Dquarkus.management.port=" + managementPort);
        cmd.add("-Dapicurio.datasource.url=jdbc:h2:file:" + workDir.resolve("h2").resolve("registry"));
        // what `-jar quarkus-run.jar` would take from its manifest, as the main class runs behind ParentWatch
        cmd.add("--add-opens=java.base/java.lang=ALL-UNNAMED");
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(home.resolve("quarkus-run.jar") + File.pathSeparator + workDir.resolve(WATCH_DIR));
        cmd.add(ParentWatch.class.getName());
        cmd.add(String.valueOf(ProcessHandle.current().pid()));
        cmd.add(QUARKUS_MAIN);
        return cmd;
    }

    /** Copies the {@link ParentWatch} class file (and only it) to the directory the child's class path names. */
    private void installParentWatch() throws IOException {
        String resource = ParentWatch.class.getName().replace('.', '/') + ".class";
        Path target = workDir.resolve(WATCH_DIR).resolve(resource);
        Files.createDirectories(target.getParent());
        try (InputStream in = ParentWatch.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) throw new IOException("class file " + resource + " not found on the class path");
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static String javaExecutable() {
        if (Runtime.version().feature() < MIN_JAVA) {
            throw new IllegalStateException("Apicurio Registry needs Java " + MIN_JAVA + "+, and it is run with this JVM's java ("
                    + System.getProperty("java.home") + ", Java " + Runtime.version().feature() + "): run on JDK 25");
        }
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private void awaitReady() {
        URI ready = URI.create("http://127.0.0.1:" + managementPort + "/health/ready");
        // the health endpoint lives on the management port: also ask the API port, which may have failed to bind
        URI api = URI.create(schemaRegistryUrl() + "/subjects");
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (true) {
            if (!process.isAlive()) {
                int code = process.exitValue();
                stop();
                throw new IllegalStateException("Apicurio Registry exited with code " + code + " while starting (port "
                        + port + ", management port " + managementPort + "); last lines of " + logFile() + ":\n"
                        + ChildProcess.tail(logFile(), 40));
            }
            if (isReady(ready) && isReady(api)) return;
            if (System.nanoTime() > deadline) {
                stop();
                throw new IllegalStateException("Apicurio Registry not ready at " + ready + " after " + startTimeout.toSeconds()
                        + " s; last lines of " + logFile() + ":\n" + ChildProcess.tail(logFile(), 40));
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stop();
                throw new IllegalStateException("interrupted waiting for Apicurio Registry", e);
            }
        }
    }

    private boolean isReady(URI ready) {
        try {
            HttpRequest request = HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(2)).GET().build();
            return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void killQuietly() {
        Process p = process;
        if (p != null) ChildProcess.destroyTree(p.toHandle(), 5_000);
    }
}
