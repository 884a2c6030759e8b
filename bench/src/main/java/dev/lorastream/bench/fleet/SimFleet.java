package dev.lorastream.bench.fleet;

import dev.lorastream.engine.sim.SimConfig;
import dev.lorastream.engine.sim.SimulatedEngine;
import dev.lorastream.worker.Worker;
import dev.lorastream.worker.WorkerConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A fleet of real workers (consumer group, transactions, heartbeats) on simulated engines, in this
 * process, plus optionally one worker in a child JVM that can be killed (SIGKILL) to test a fault.
 */
final class SimFleet implements AutoCloseable {
    record Member(String id, SimulatedEngine engine, Worker worker, java.util.concurrent.atomic.DoubleAdder rowMs) {}

    private final Map<String, Member> members = new LinkedHashMap<>();
    private final Map<String, String> settings;
    private final SimConfig sim;
    private Process victim;
    private String victimId;

    /** @param settings the worker keys every member shares (bootstrap, registry, group, batch, timeouts, sim.*) */
    SimFleet(Map<String, String> settings, SimConfig sim) {
        this.settings = Map.copyOf(settings);
        this.sim = sim;
    }

    void start(String id) {
        Map<String, Object> raw = new HashMap<>(settings);
        raw.put(WorkerConfig.WORKER_ID.name(), id);
        WorkerConfig config = WorkerConfig.from(raw);
        SimulatedEngine engine = new SimulatedEngine(sim.withSeed(id.hashCode()));
        java.util.concurrent.atomic.DoubleAdder rowMs = new java.util.concurrent.atomic.DoubleAdder();
        engine.addPassListener(p -> rowMs.add(p.rows() * p.simulatedMs()));
        Worker worker = new Worker(config, engine);
        worker.start();
        members.put(id, new Member(id, engine, worker, rowMs));
    }

    /** One more worker in a child JVM (WorkerMain --engine sim with the same settings), killable with {@link #kill()}. */
    void startVictim(String id, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.lorastream.worker.WorkerMain"));
        Map<String, String> raw = new HashMap<>(settings);
        raw.put(WorkerConfig.WORKER_ID.name(), id);
        raw.forEach((k, v) -> {
            cmd.add("--set");
            cmd.add(k + "=" + v);
        });
        cmd.add("--metrics-port");
        cmd.add("0"); // a free port: the bench host's 9400 may be taken
        Files.createDirectories(log.toAbsolutePath().getParent());
        victim = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        victimId = id;
    }

    /** SIGKILL of the child worker: no leave-group, no last heartbeat, its transaction left open. */
    void kill() throws InterruptedException {
        victim.destroyForcibly();
        victim.waitFor(10, TimeUnit.SECONDS);
    }

    String victimId() { return victimId; }

    /** Each in-process engine's counters so far (simulated pass time, tokens, adapter copies and store loads). */
    Map<String, SimulatedEngine.Stats> stats() {
        Map<String, SimulatedEngine.Stats> m = new LinkedHashMap<>();
        members.forEach((id, mem) -> m.put(id, mem.engine().stats()));
        return m;
    }

    /** Each in-process engine's rows times pass time so far (simulated ms): its rows in use, integrated over its passes. */
    Map<String, Double> rowMs() {
        Map<String, Double> m = new LinkedHashMap<>();
        members.forEach((id, mem) -> m.put(id, mem.rowMs().sum()));
        return m;
    }

    List<String> ids() { return List.copyOf(members.keySet()); }

    @Override
    public void close() throws InterruptedException {
        if (victim != null && victim.isAlive()) kill();
        List<Thread> closing = new ArrayList<>();
        for (Member m : members.values()) {
            Thread t = Thread.ofPlatform().start(() -> {
                m.worker().close();
                m.engine().close();
            });
            closing.add(t);
        }
        for (Thread t : closing) t.join(Duration.ofSeconds(90).toMillis());
    }
}
