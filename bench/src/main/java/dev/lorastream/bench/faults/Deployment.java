package dev.lorastream.bench.faults;

import dev.lorastream.engine.demo.DemoModels;
import dev.lorastream.platform.ClusterSecurity;
import dev.lorastream.schemas.config.KafkaClientSettings;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The pipeline as production runs it, one OS process per part on this machine (localhost only):
 * the broker and the registry ({@link PlatformPart}), the router, two workers on the demo model
 * (ONNX Runtime, CPU), the attribution sink and the HTTP endpoint with an API key ({@code
 * ./pipeline router|worker|sink|http}). A part that the matrix kills is started again as a
 * supervisor (systemd, Kubernetes) would: same command, same id, nothing else touched. The broker runs
 * SASL/SCRAM with ACLs ({@link ClusterSecurity}); each part connects as its component's principal (router, worker,
 * sink, http), with only that role's ACLs; the matrix's own clients are the pipeline's super user.
 */
final class Deployment implements AutoCloseable {
    static final String TENANT = "acme";

    final Path root;
    final Path work;
    final int kafkaPort;
    final int registryPort;
    final int httpPort;
    final String apiKey = "lsk-fault-" + UUID.randomUUID();
    /** SASL/SCRAM and ACLs on the broker: the parts and the matrix's own clients are the pipeline; {@value #ATTACKER} is a caller. */
    final ClusterSecurity security;
    static final String ATTACKER = "mallory";
    private final Map<String, Proc> parts = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    Deployment(Path root, Path work, int basePort) throws IOException {
        this.root = root;
        this.work = work;
        this.kafkaPort = basePort;
        this.registryPort = basePort + 1;
        this.httpPort = basePort + 3;
        Files.createDirectories(work);
        this.security = ClusterSecurity.in(work.resolve("security"));
        KafkaClientSettings.use(security.clientFile(ClusterSecurity.PIPELINE));
        Files.writeString(work.resolve("keys"), "sha256:" + sha256(apiKey) + " " + TENANT + " models=* # fault matrix\n");
    }

    String bootstrap() { return "127.0.0.1:" + kafkaPort; }

    String registryUrl() { return "http://127.0.0.1:" + registryPort + "/apis/ccompat/v7"; }

    String httpUrl() { return "http://127.0.0.1:" + httpPort; }

    Proc part(String name) { return parts.get(name); }

    List<Proc> parts() { return List.copyOf(parts.values()); }

    /**
     * The parts that died without the matrix killing them, started again as a supervisor would
     * ({@code Restart=always}); the caller reports them: a crash is not a healed fault.
     */
    List<String> restartCrashed(java.util.Set<String> retired) {
        List<String> crashed = new ArrayList<>();
        for (Proc p : parts.values()) {
            if (!p.alive() && !retired.contains(p.name())) {
                crashed.add(p.name());
                p.start();
            }
        }
        return crashed;
    }

    /** Starts every part and waits until a request goes through. */
    void start() throws Exception {
        DemoModels.Paths models = DemoModels.write(work.resolve("models"));
        List<String> broker = platformPart("broker", work.resolve("broker"), kafkaPort);
        broker.add(security.dir().toString());
        parts.put("broker", proc("broker", broker));
        parts.put("registry", proc("registry", platformPart("registry", work.resolve("registry"), registryPort, registryPort + 1)));
        startPart("broker");
        startPart("registry");
        TopicSetup.ensure(bootstrap(), 4, (short) 1);
        security.addCaller(bootstrap(), ATTACKER);
        Topics.declareSubjects(new HttpSchemaRegistryClient(registryUrl()));
        List<String> kafka = List.of("--bootstrap-servers", bootstrap(), "--schema-registry", registryUrl());
        parts.put("router", proc("router", pipeline("router", kafka, "--state-dir", work.resolve("router").toString(),
                "--metrics-port", "0", "--instance-id", "router-1")));
        for (String w : List.of("worker-1", "worker-2")) parts.put(w, proc(w, worker(w, kafka, models)));
        parts.put("sink", proc("sink", pipeline("sink", kafka, "--data-dir", work.resolve("sink").toString(), "--instance-id", "sink-1")));
        parts.put("http", proc("http", pipeline("http", kafka, "--http-port", Integer.toString(httpPort),
                "--keys-file", work.resolve("keys").toString())));
        for (String p : List.of("router", "worker-1", "worker-2", "sink", "http")) parts.get(p).start();
        awaitHttpReady(Duration.ofMinutes(3));
    }

    /** A third worker with an id never seen (the "new id" replacement of a dead one). */
    Proc addWorker(String id) throws IOException {
        List<String> kafka = List.of("--bootstrap-servers", bootstrap(), "--schema-registry", registryUrl());
        Proc p = proc(id, worker(id, kafka, DemoModels.write(work.resolve("models"))));
        parts.put(id, p);
        return p.start();
    }

    void startPart(String name) throws Exception {
        Proc p = parts.get(name).start();
        switch (name) {
            case "broker" -> awaitPort(kafkaPort, Duration.ofMinutes(2), p);
            case "registry" -> awaitUrl(registryUrl() + "/subjects", Duration.ofMinutes(3), p);
            default -> { }
        }
    }

    void awaitHttpReady(Duration timeout) throws Exception { awaitUrl(httpUrl() + "/ready", timeout, parts.get("http")); }

    private List<String> worker(String id, List<String> kafka, DemoModels.Paths models) {
        return pipeline("worker", kafka, "--model", models.backbone().toString(), "--adapters", models.adapters().toString(),
                "--worker-id", id, "--metrics-port", "0", "--max-batch", "8");
    }

    private Proc proc(String name, List<String> command) { return new Proc(name, command, work.resolve("logs").resolve(name + ".log")); }

    private List<String> java(String classPath, String xmx) {
        return new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), xmx,
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-Dapicurio.home=" + System.getProperty("apicurio.home", root.resolve("platform/target/apicurio").toString()),
                "-Dlorastream.root=" + root, "-Dlorastream.schema.cache.dir=" + work.resolve("schema-cache"), "-cp", classPath));
    }

    private List<String> platformPart(String what, Path dir, int... ports) {
        List<String> cmd = java(root.resolve("bench/target/bench.jar") + ":" + root.resolve("bench/target/lib") + "/*", "-Xmx768m");
        cmd.add(PlatformPart.class.getName());
        cmd.add(what);
        cmd.add(dir.toString());
        for (int p : ports) cmd.add(Integer.toString(p));
        return cmd;
    }

    private List<String> pipeline(String command, List<String> kafka, String... args) {
        List<String> cmd = java(root.resolve("launcher/target/launcher.jar") + ":" + root.resolve("launcher/target/lib") + "/*", "-Xmx640m");
        cmd.add("dev.lorastream.launcher.Pipeline");
        cmd.add(command);
        cmd.addAll(kafka);
        // each part as its own principal (named as its command), with only its role's ACLs
        String principal = ClusterSecurity.COMPONENTS.contains(command) ? command : ClusterSecurity.PIPELINE;
        cmd.addAll(List.of("--kafka-config", security.clientFile(principal).toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static void awaitPort(int port, Duration timeout, Proc p) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.alive()) throw new IllegalStateException(p.name() + " exited while starting; see its log");
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException(p.name() + " not listening on " + port + " after " + timeout);
    }

    private void awaitUrl(String url, Duration timeout, Proc p) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.alive()) throw new IllegalStateException(p.name() + " exited while starting; see its log");
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException(p.name() + " not ready at " + url + " after " + timeout);
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        List<Proc> all = new ArrayList<>(parts.values());
        java.util.Collections.reverse(all);
        for (Proc p : all) {
            if (p.alive()) {
                p.thaw();
                p.terminate(20);
            }
        }
    }
}
