package dev.lorastream.bench.fleet;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lorastream.bench.gpu.Plot;
import dev.lorastream.engine.sim.CostModel;
import dev.lorastream.engine.sim.SimConfig;
import dev.lorastream.engine.sim.SimulatedEngine;
import dev.lorastream.platform.EmbeddedPlatform;
import dev.lorastream.router.RouterApp;
import dev.lorastream.router.RouterConfig;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.WorkerConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * The fleet benchmark: real router, real workers (consumer group, transactions, heartbeats) on
 * SIMULATED engines (a cost model calibrated from the H200, {@code docs/sim-engine.md}) and the
 * embedded broker and registry, all on this machine. Zipf traffic over many adapters, open loop,
 * ramped in steps to the fleet's capacity with a hot-spot shift in one step; hash placement and
 * load-aware placement at the same offered load, in alternating rounds. With {@code --fault}, one
 * more worker runs in a child JVM and is killed (SIGKILL) mid-run.
 */
@Command(name = "bench-fleet", mixinStandardHelpOptions = true,
        description = "Placement at fleet scale on simulated workers: hash vs load-aware (docs/benchmarks/placement.md).")
public final class FleetBench implements Callable<Integer> {
    @Option(names = "--workers", defaultValue = "16", description = "simulated GPU workers (default ${DEFAULT-VALUE})") int workers;
    @Option(names = "--adapters", defaultValue = "1000", description = "adapters, Zipf-popular (default ${DEFAULT-VALUE})") int adapters;
    @Option(names = "--zipf", defaultValue = "1.0", description = "Zipf exponent (default ${DEFAULT-VALUE})") double zipf;
    @Option(names = "--partitions", defaultValue = "64", description = "partitions of the routed topic (default ${DEFAULT-VALUE})") int partitions;
    @Option(names = "--max-batch", defaultValue = "32", description = "rows per forward pass (default ${DEFAULT-VALUE})") int maxBatch;
    @Option(names = "--device-slots", defaultValue = "48", description = "bank slots per worker (default ${DEFAULT-VALUE})") int deviceSlots;
    @Option(names = "--host-slots", defaultValue = "192", description = "host-tier adapters per worker (default ${DEFAULT-VALUE})") int hostSlots;
    @Option(names = "--time-scale", defaultValue = "8", description = "simulated durations times this (default ${DEFAULT-VALUE})") double timeScale;
    @Option(names = "--prompt", defaultValue = "128", description = "prompt tokens (default ${DEFAULT-VALUE})") int prompt;
    @Option(names = "--new-tokens", defaultValue = "32", description = "tokens generated per request (default ${DEFAULT-VALUE})") int newTokens;
    @Option(names = "--loads", defaultValue = "0.2,0.4,0.6,0.8,1.0", split = ",", description = "offered load steps, fractions of capacity") double[] loads;
    @Option(names = "--step-s", defaultValue = "40", description = "seconds per load step (the shift step runs twice as long)") int stepS;
    @Option(names = "--shift-load", defaultValue = "0.8", description = "the step whose midpoint reshuffles which adapters are hot") double shiftLoad;
    @Option(names = "--warmup-s", defaultValue = "20", description = "seconds of traffic at the first load before measuring") int warmupS;
    @Option(names = "--placements", defaultValue = "hash,load-aware", split = ",", description = "placements to compare, in the order of each round") String[] placements;
    @Option(names = "--rounds", defaultValue = "1", description = "rounds; each runs every placement, the order alternating") int rounds;
    @Option(names = "--fault", description = "instead of the ramp: one load step with a worker in a child JVM killed midway") boolean fault;
    @Option(names = "--fault-load", defaultValue = "0.6", description = "offered load of the fault run") double faultLoad;
    @Option(names = "--busy-at", defaultValue = "0.85", description = "load-aware placement's busy threshold, requests per row (default ${DEFAULT-VALUE})") double busyAt;
    @Option(names = "--window-s", defaultValue = "5", description = "seconds per window of the p99-over-time series") int windowS;
    @Option(names = "--out", defaultValue = "fleet-out", description = "where placement.json, placement.md and the plot go") Path out;
    @Option(names = "--work", description = "working directory (default: a temporary one)") Path work;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static void main(String[] args) {
        System.exit(new CommandLine(new FleetBench()).execute(args));
    }

    /** Requests per second (wall clock) the fleet can serve: every row busy, prefill of the joiners included, from the cost model. */
    static double capacity(CostModel cost, int workers, int rows, int prompt, int newTokens, double timeScale) {
        double joinersPerStep = (double) rows / newTokens;
        double stepMs = cost.decodeMs(rows, rows) + cost.prefillMs(Math.round(joinersPerStep * prompt));
        return workers * rows / (newTokens * stepMs * timeScale) * 1000;
    }

    @Override
    public Integer call() throws Exception {
        if (work == null) work = Files.createTempDirectory("lorastream-fleet");
        Files.createDirectories(out);
        SimConfig sim = SimConfig.h200(adapters, "z%04d").withMaxRows(maxBatch).withTiers(deviceSlots, hostSlots).withTimeScale(timeScale);
        double capacity = capacity(sim.cost(), workers, maxBatch, prompt, newTokens, timeScale);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("simulated", "SIMULATED engines (cost model " + sim.cost().name() + ", docs/sim-engine.md): real router, workers, broker and registry on this machine");
        report.put("workers", workers);
        report.put("adapters", adapters);
        report.put("zipf", zipf);
        report.put("partitions", partitions);
        report.put("max_batch", maxBatch);
        report.put("device_slots", deviceSlots);
        report.put("host_slots", hostSlots);
        report.put("time_scale", timeScale);
        report.put("busy_at", busyAt);
        report.put("prompt_tokens", prompt);
        report.put("new_tokens", newTokens);
        report.put("capacity_requests_per_s", round(capacity));
        report.put("command", "bench-fleet " + String.join(" ", commandLine()));
        System.out.printf(Locale.ROOT, "fleet: %d simulated workers, %d adapters, capacity %.1f requests/s (wall clock, time scale %.1f)%n",
                workers, adapters, capacity, timeScale);
        if (fault) {
            Map<String, Object> runs = new LinkedHashMap<>();
            for (String placement : placements) runs.put(placement, faultRun(placement, sim, capacity));
            report.put("fault", runs);
        } else {
            List<Map<String, Object>> all = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                List<String> order = new ArrayList<>(Arrays.asList(placements));
                if (r % 2 == 1) java.util.Collections.reverse(order);
                for (String placement : order) all.add(rampRun(placement, r, sim, capacity));
            }
            report.put("runs", all);
            summarise(report, all);
            plot(all, out.resolve("placement.png"));
        }
        Path json = out.resolve(fault ? "placement-fault.json" : "placement.json");
        JSON.writeValue(json.toFile(), report);
        System.out.println("fleet: wrote " + json);
        return 0;
    }

    private List<String> commandLine() {
        List<String> a = new ArrayList<>(List.of("--workers", "" + workers, "--adapters", "" + adapters, "--zipf", "" + zipf,
                "--partitions", "" + partitions, "--max-batch", "" + maxBatch, "--device-slots", "" + deviceSlots, "--host-slots", "" + hostSlots,
                "--time-scale", "" + timeScale, "--prompt", "" + prompt, "--new-tokens", "" + newTokens,
                "--loads", Arrays.stream(loads).mapToObj(d -> "" + d).collect(Collectors.joining(",")), "--step-s", "" + stepS,
                "--shift-load", "" + shiftLoad, "--warmup-s", "" + warmupS, "--busy-at", "" + busyAt, "--placements", String.join(",", placements), "--rounds", "" + rounds));
        if (fault) a.addAll(List.of("--fault", "--fault-load", "" + faultLoad));
        return a;
    }

    /** The pieces of one run: platform, topics, fleet, router. */
    private record Stage(EmbeddedPlatform platform, HttpSchemaRegistryClient registry, SimFleet fleet, RouterApp router) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            try {
                router.close();
            } finally {
                try {
                    fleet.close();
                } finally {
                    platform.close();
                }
            }
        }
    }

    private Stage stage(String placement, Path dir, SimConfig sim, boolean victim) throws Exception {
        EmbeddedPlatform platform = EmbeddedPlatform.start(dir.resolve("platform"));
        String bootstrap = platform.bootstrapServers();
        TopicSetup.ensure(bootstrap, partitions, (short) 1);
        HttpSchemaRegistryClient registry = new HttpSchemaRegistryClient(platform.schemaRegistryUrl());
        Topics.declareSubjects(registry);
        Map<String, String> settings = new HashMap<>();
        settings.put(WorkerConfig.BOOTSTRAP_SERVERS.name(), bootstrap);
        settings.put(WorkerConfig.SCHEMA_REGISTRY_URL.name(), platform.schemaRegistryUrl());
        settings.put(WorkerConfig.GROUP_ID.name(), "fleet-workers");
        settings.put(WorkerConfig.ENGINE.name(), "sim");
        settings.put(WorkerConfig.MAX_BATCH_SIZE.name(), "" + maxBatch);
        settings.put(WorkerConfig.MAX_POLL_RECORDS.name(), "" + 2 * maxBatch);
        settings.put(WorkerConfig.SIM_ADAPTERS.name(), "" + adapters);
        settings.put(WorkerConfig.SIM_DEVICE_SLOTS.name(), "" + deviceSlots);
        settings.put(WorkerConfig.SIM_HOST_SLOTS.name(), "" + hostSlots);
        settings.put(WorkerConfig.SIM_TIME_SCALE.name(), "" + timeScale);
        settings.put(WorkerConfig.SESSION_TIMEOUT.name(), "6000");
        settings.put(WorkerConfig.TRANSACTION_TIMEOUT.name(), "6000");
        SimFleet fleet = new SimFleet(settings, sim);
        for (int i = 0; i < workers; i++) fleet.start(String.format(Locale.ROOT, "sim-w%02d", i));
        if (victim) fleet.startVictim("sim-victim", dir.resolve("victim.log"));
        RouterApp router = new RouterApp(new RouterConfig(Map.of(
                RouterConfig.BOOTSTRAP_SERVERS, bootstrap, RouterConfig.SCHEMA_REGISTRY_URL, platform.schemaRegistryUrl(),
                RouterConfig.APPLICATION_ID, "fleet-router", RouterConfig.STATE_DIR, dir.resolve("router").toString(),
                RouterConfig.NUM_STREAM_THREADS, 2, RouterConfig.PLACEMENT, placement, RouterConfig.BUSY_AT, busyAt)), registry);
        router.start();
        awaitAssignment(bootstrap, workers + (victim ? 1 : 0));
        if (router.placement() instanceof dev.lorastream.router.placement.LoadAwarePlacement la) {
            // traffic starts once the router's table holds every partition (the heartbeats follow the assignment within 100 ms)
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (la.fleet().workers().stream().mapToInt(w -> w.partitions().size()).sum() < partitions && System.nanoTime() < deadline) Thread.sleep(100);
        }
        return new Stage(platform, registry, fleet, router);
    }

    /** Until every member of the group holds routed partitions and together they hold all. */
    private void awaitAssignment(String bootstrap, int members) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            while (System.nanoTime() < deadline) {
                ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("fleet-workers")).all().get().get("fleet-workers");
                int held = 0, withParts = 0;
                for (MemberDescription m : d.members()) {
                    int n = (int) m.assignment().topicPartitions().stream().filter(tp -> tp.topic().equals(Topics.ROUTED)).count();
                    held += n;
                    if (n > 0) withParts++;
                }
                if (withParts == members && held == partitions) return;
                Thread.sleep(500);
            }
        }
        throw new IllegalStateException("the fleet's group did not settle on " + members + " members holding " + partitions + " partitions");
    }

    private Map<String, Object> rampRun(String placement, int round, SimConfig sim, double capacity) throws Exception {
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("placement", placement);
        run.put("round", round);
        System.out.printf(Locale.ROOT, "fleet: round %d, %s placement%n", round, placement);
        try (Stage s = stage(placement, work.resolve(placement + "-" + round), sim, false);
             OpenLoop loop = new OpenLoop(s.platform().bootstrapServers(), s.registry(), sim.adapterIds(), zipf, 1000 + round, prompt, newTokens,
                     placement + "-" + round)) {
            loop.phase(-1, loads[0] * capacity, Duration.ofSeconds(warmupS), null);
            List<Map<String, Object>> steps = new ArrayList<>();
            List<long[]> windows = new ArrayList<>(); // phase start/end nanos
            List<Map<String, SimulatedEngine.Stats>> before = new ArrayList<>(), after = new ArrayList<>();
            List<Map<String, Double>> rowsBefore = new ArrayList<>(), rowsAfter = new ArrayList<>();
            long shiftNanos = 0;
            for (int i = 0; i < loads.length; i++) {
                boolean shift = Math.abs(loads[i] - shiftLoad) < 1e-9;
                Duration length = Duration.ofSeconds(shift ? 2L * stepS : stepS);
                before.add(s.fleet().stats());
                rowsBefore.add(s.fleet().rowMs());
                long t0 = System.nanoTime();
                if (shift) shiftNanos = t0 + Duration.ofSeconds(stepS).toNanos();
                loop.phase(i, loads[i] * capacity, length, shift ? Duration.ofSeconds(stepS) : null);
                windows.add(new long[] {t0, System.nanoTime()});
                after.add(s.fleet().stats());
                rowsAfter.add(s.fleet().rowMs());
                System.out.printf(Locale.ROOT, "fleet:   load %.0f%% (%.1f requests/s) sent%n", loads[i] * 100, loads[i] * capacity);
            }
            boolean all = loop.awaitAll(Duration.ofMinutes(5));
            List<OpenLoop.Done> done = loop.done();
            run.put("sent", loop.sentCount());
            run.put("answered", done.size());
            run.put("all_answered", all);
            run.put("duplicates", loop.duplicates());
            run.put("attributions_missing", loop.attributionsMissing());
            run.put("attributions_repeated", loop.attributionsRepeated());
            for (int i = 0; i < loads.length; i++) {
                int phase = i;
                List<OpenLoop.Done> mine = done.stream().filter(d -> d.sent().phase() == phase).toList();
                long sentInPhase = mine.size() + loop.unanswered().stream().filter(u -> u.phase() == phase).count();
                double wallS = (windows.get(i)[1] - windows.get(i)[0]) / 1e9;
                Map<String, Object> step = new LinkedHashMap<>();
                step.put("load", loads[i]);
                step.put("offered_requests_per_s", round(loads[i] * capacity));
                step.put("sent", sentInPhase);
                step.put("answered", mine.size());
                step.put("achieved_requests_per_s", round(served(done, windows.get(i)) / wallS));
                step.putAll(latency(mine, "e2e", OpenLoop.Done::latencyMs));
                step.putAll(latency(mine, "ttft", d -> Math.max(0, d.latencyMs() - d.decodeMs() * timeScale)));
                step.putAll(utilisation(before.get(i), after.get(i), rowsBefore.get(i), rowsAfter.get(i), wallS));
                if (Math.abs(loads[i] - shiftLoad) < 1e-9) step.put("shift", shiftRecovery(mine, windows.get(i)[0], shiftNanos));
                steps.add(step);
                System.out.printf(Locale.ROOT, "fleet:   %-10s load %.0f%%: achieved %.1f/s, p50 %.0f ms, p99 %.0f ms, utilisation max/mean %.2f%n", placement,
                        loads[i] * 100, (double) step.get("achieved_requests_per_s"), (double) step.get("e2e_p50_ms"), (double) step.get("e2e_p99_ms"),
                        (double) step.get("utilisation_max_over_mean"));
            }
            run.put("steps", steps);
            run.put("placement_decisions", decisions(s.router()));
        }
        return run;
    }

    private static long served(List<OpenLoop.Done> done, long[] window) {
        return done.stream().filter(d -> d.doneNanos() >= window[0] && d.doneNanos() < window[1]).count();
    }

    private Map<String, Object> faultRun(String placement, SimConfig sim, double capacity) throws Exception {
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("placement", placement);
        System.out.printf(Locale.ROOT, "fleet: fault run, %s placement%n", placement);
        try (Stage s = stage(placement, work.resolve("fault-" + placement), sim, true);
             OpenLoop loop = new OpenLoop(s.platform().bootstrapServers(), s.registry(), sim.adapterIds(), zipf, 77, prompt, newTokens, "fault-" + placement)) {
            double rate = faultLoad * capacity * (workers + 1) / workers;
            loop.phase(-1, rate, Duration.ofSeconds(warmupS), null);
            loop.phase(0, rate, Duration.ofSeconds(stepS), null);
            long kill = System.nanoTime();
            s.fleet().kill();
            System.out.println("fleet:   killed " + s.fleet().victimId() + " (SIGKILL)");
            loop.phase(1, rate, Duration.ofSeconds(2L * stepS), null);
            boolean all = loop.awaitAll(Duration.ofMinutes(5));
            List<OpenLoop.Done> done = loop.done();
            String victim = s.fleet().victimId();
            Map<String, Long> victimAdapters = new HashMap<>(); // adapter -> requests the victim answered before the kill
            for (OpenLoop.Done d : done) if (victim.equals(d.worker()) && d.doneNanos() < kill) victimAdapters.merge(d.sent().adapter(), 1L, Long::sum);
            List<Double> movedAfterS = new ArrayList<>();
            long askedAfter = victimAdapters.keySet().stream()
                    .filter(a -> loop.done().stream().anyMatch(d -> d.sent().adapter().equals(a) && d.sent().sentNanos() >= kill)
                            || loop.unanswered().stream().anyMatch(u -> u.adapter().equals(a) && u.sentNanos() >= kill)).count();
            for (String a : victimAdapters.keySet()) {
                done.stream().filter(d -> d.sent().adapter().equals(a) && d.sent().sentNanos() >= kill && !victim.equals(d.worker()))
                        .mapToLong(OpenLoop.Done::doneNanos).min().ifPresent(t -> movedAfterS.add(round((t - kill) / 1e9)));
            }
            movedAfterS.sort(null);
            run.put("sent", loop.sentCount());
            run.put("answered", done.size());
            run.put("all_answered", all);
            run.put("unanswered", loop.unanswered().size());
            run.put("duplicates", loop.duplicates());
            run.put("attributions_missing", loop.attributionsMissing());
            run.put("attributions_repeated", loop.attributionsRepeated());
            run.put("answered_by_victim_after_kill", done.stream().filter(d -> victim.equals(d.worker()) && d.doneNanos() > kill).count());
            run.put("victim_adapters", victimAdapters.size());
            run.put("victim_adapters_requested_after_kill", askedAfter);
            run.put("victim_adapters_served_elsewhere", movedAfterS.size());
            run.put("first_answer_elsewhere_after_kill_s", movedAfterS); // includes the wait for the adapter's next request
            // from when on do the victim's adapters see normal latency again: every request of theirs sent from kill + t on is
            // answered within 1.2x the p99 of the window before the kill
            long stepNanos = Duration.ofSeconds(stepS).toNanos();
            double normal = percentile(done.stream().filter(d -> d.sent().sentNanos() >= kill - stepNanos && d.sent().sentNanos() < kill)
                    .map(OpenLoop.Done::latencyMs).toList(), 99);
            List<OpenLoop.Done> theirs = done.stream().filter(d -> victimAdapters.containsKey(d.sent().adapter()) && d.sent().sentNanos() >= kill)
                    .sorted(java.util.Comparator.comparingLong(d -> d.sent().sentNanos())).toList();
            Double recovered = null;
            for (double t = 0; t <= 2.0 * stepS; t += 0.5) {
                long from = kill + (long) (t * 1e9);
                if (theirs.stream().filter(d -> d.sent().sentNanos() >= from).allMatch(d -> d.latencyMs() <= 1.2 * normal)) {
                    recovered = t;
                    break;
                }
            }
            run.put("p99_before_kill_ms", round(normal));
            run.put("victim_adapters_normal_again_after_s", recovered);
            run.put("victim_adapter_requests_in_10_s_after_kill", theirs.stream().filter(d -> d.sent().sentNanos() < kill + 10_000_000_000L).count());
            run.put("victim_adapter_latency_max_ms_in_10_s_after_kill", round(theirs.stream().filter(d -> d.sent().sentNanos() < kill + 10_000_000_000L)
                    .mapToDouble(OpenLoop.Done::latencyMs).max().orElse(Double.NaN)));
            // requests in flight at the kill (sent before it, answered after it): the victim's among them waited for the group
            // to reassign its partitions and for its open transaction to be aborted
            List<OpenLoop.Done> inFlight = done.stream().filter(d -> d.sent().sentNanos() < kill && d.doneNanos() >= kill).toList();
            run.put("in_flight_at_kill", inFlight.size());
            run.put("in_flight_answered_within_s_of_kill", round(inFlight.stream().mapToLong(d -> d.doneNanos() - kill).max().orElse(0) / 1e9));
            List<OpenLoop.Done> afterKill = done.stream().filter(d -> d.sent().sentNanos() >= kill).toList();
            run.putAll(latency(afterKill, "e2e_after_kill", OpenLoop.Done::latencyMs));
            run.put("p99_over_time", windows(done, kill - Duration.ofSeconds(stepS).toNanos(), kill));
            System.out.printf(Locale.ROOT, "fleet:   %s: answered %d of %d, duplicates %d, attributions missing %d / repeated %d; the victim's %d adapters "
                            + "at normal latency (<= 1.2 x p99 %.0f ms) for requests sent %s s after the kill%n", placement, done.size(), loop.sentCount(),
                    loop.duplicates(), loop.attributionsMissing(), loop.attributionsRepeated(), victimAdapters.size(), normal, recovered);
        }
        return run;
    }

    /** p99 per window (by send time) around the shift, and how long after it the p99 came back within 1.2x of the steady one. */
    private Map<String, Object> shiftRecovery(List<OpenLoop.Done> phase, long start, long shift) {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Double> steady = phase.stream().filter(d -> d.sent().sentNanos() < shift && d.sent().sentNanos() >= start + (shift - start) / 4)
                .map(OpenLoop.Done::latencyMs).toList();
        double steadyP99 = percentile(steady, 99);
        m.put("steady_p99_ms", round(steadyP99));
        List<Map<String, Object>> series = windows(phase, start, shift);
        m.put("p99_over_time", series);
        double limit = 1.2 * steadyP99;
        Double recovered = null;
        for (int i = 0; i < series.size(); i++) {
            double from = (double) series.get(i).get("from_s");
            if (from < 0) continue;
            boolean stays = true;
            for (int j = i; j < series.size(); j++) {
                Object p = series.get(j).get("p99_ms");
                if (p instanceof Double v && v > limit) stays = false;
            }
            if (stays) {
                recovered = round(from + windowS);
                break;
            }
        }
        m.put("recovered_within_1_2x_after_s", recovered);
        m.put("recovered_within_1_2x_after_simulated_s", recovered == null ? null : round(recovered / timeScale));
        return m;
    }

    /** p99 of the requests sent in each window, times relative to {@code zero}. */
    private List<Map<String, Object>> windows(List<OpenLoop.Done> done, long start, long zero) {
        long w = Duration.ofSeconds(windowS).toNanos();
        long end = done.stream().mapToLong(d -> d.sent().sentNanos()).max().orElse(start);
        List<Map<String, Object>> out = new ArrayList<>();
        for (long t = start; t < end; t += w) {
            long from = t;
            List<Double> in = done.stream().filter(d -> d.sent().sentNanos() >= from && d.sent().sentNanos() < from + w).map(OpenLoop.Done::latencyMs).toList();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("from_s", round((t - zero) / 1e9));
            m.put("requests", in.size());
            m.put("p99_ms", in.isEmpty() ? null : round(percentile(in, 99)));
            out.add(m);
        }
        return out;
    }

    private static Map<String, Object> latency(List<OpenLoop.Done> done, String name, java.util.function.ToDoubleFunction<OpenLoop.Done> f) {
        List<Double> v = done.stream().filter(OpenLoop.Done::ok).map(f::applyAsDouble).toList();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(name + "_p50_ms", round(percentile(v, 50)));
        m.put(name + "_p99_ms", round(percentile(v, 99)));
        return m;
    }

    /**
     * Each worker's utilisation in the window: its rows in use integrated over its passes (simulated
     * ms times the time scale) over max rows times the wall time (1: every row busy all the time); its
     * busy share (time in passes, whatever their rows); adapter copies and store loads per minute.
     */
    private Map<String, Object> utilisation(Map<String, SimulatedEngine.Stats> before, Map<String, SimulatedEngine.Stats> after,
                                            Map<String, Double> rowsBefore, Map<String, Double> rowsAfter, double wallS) {
        List<Double> busy = new ArrayList<>(), passTime = new ArrayList<>();
        long copies = 0, loads = 0;
        for (String id : after.keySet()) {
            SimulatedEngine.Stats a = after.get(id), b = before.get(id);
            busy.add((rowsAfter.get(id) - rowsBefore.get(id)) * timeScale / 1000 / (maxBatch * wallS));
            passTime.add((a.simulatedMs() - b.simulatedMs()) * timeScale / 1000 / wallS);
            copies += a.copiesToDevice() - b.copiesToDevice();
            loads += a.loadsFromStore() - b.loadsFromStore();
        }
        double mean = busy.stream().mapToDouble(Double::doubleValue).average().orElse(0), max = busy.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("utilisation_mean", round(mean));
        m.put("utilisation_max", round(max));
        m.put("utilisation_max_over_mean", mean == 0 ? 0.0 : round(max / mean));
        m.put("utilisation_min", round(busy.stream().mapToDouble(Double::doubleValue).min().orElse(0)));
        m.put("busy_share_mean", round(passTime.stream().mapToDouble(Double::doubleValue).average().orElse(0)));
        m.put("adapter_copies_to_device_per_min", round(copies / wallS * 60));
        m.put("adapter_store_loads_per_min", round(loads / wallS * 60));
        return m;
    }

    private static Map<String, Double> decisions(RouterApp router) {
        Map<String, Double> m = new LinkedHashMap<>();
        router.meters().find("lorastream.router.placements").counters().forEach(c -> m.put(c.getId().getTag("reason"), c.count()));
        return m;
    }

    @SuppressWarnings("unchecked")
    private void summarise(Map<String, Object> report, List<Map<String, Object>> runs) {
        Map<String, List<Map<String, Object>>> at80 = new HashMap<>();
        for (Map<String, Object> r : runs) {
            for (Map<String, Object> step : (List<Map<String, Object>>) r.get("steps")) {
                if (Math.abs((double) step.get("load") - 0.8) < 1e-9) at80.computeIfAbsent((String) r.get("placement"), k -> new ArrayList<>()).add(step);
            }
        }
        List<Map<String, Object>> la = at80.getOrDefault("load-aware", List.of()), hash = at80.getOrDefault("hash", List.of());
        if (!la.isEmpty() && !hash.isEmpty()) {
            double pLa = median(la, "e2e_p99_ms"), pHash = median(hash, "e2e_p99_ms");
            report.put("p99_load_aware_vs_hash", round(pLa / pHash));
            report.put("p99_load_aware_ms_at_80", pLa);
            report.put("p99_hash_ms_at_80", pHash);
            report.put("utilisation_max_over_mean", median(la, "utilisation_max_over_mean"));
            report.put("utilisation_max_over_mean_hash", median(hash, "utilisation_max_over_mean"));
            List<Object> rec = new ArrayList<>();
            for (Map<String, Object> s : la) if (s.get("shift") instanceof Map<?, ?> sh) rec.add(sh.get("recovered_within_1_2x_after_s"));
            report.put("shift_recovery_s_load_aware", rec);
        }
    }

    private static double median(List<Map<String, Object>> steps, String key) {
        double[] v = steps.stream().mapToDouble(s -> ((Number) s.get(key)).doubleValue()).sorted().toArray();
        return round(v[(v.length - 1) / 2]);
    }

    @SuppressWarnings("unchecked")
    private void plot(List<Map<String, Object>> runs, Path file) throws Exception {
        List<Plot.Series> series = new ArrayList<>();
        Color[] colors = {new Color(204, 51, 0), new Color(0, 102, 204), new Color(230, 140, 60), new Color(80, 160, 230)};
        int c = 0;
        for (Map<String, Object> r : runs) {
            List<double[]> points = new ArrayList<>();
            for (Map<String, Object> s : (List<Map<String, Object>>) r.get("steps")) {
                points.add(new double[] {(double) s.get("load") * 100, Math.max(1, (double) s.get("e2e_p99_ms"))});
            }
            series.add(new Plot.Series(r.get("placement") + " placement, round " + r.get("round") + ": p99 end to end", colors[c++ % colors.length], points));
        }
        Plot.lines(series, "offered load, % of the fleet's capacity (log)", "p99 end-to-end latency, ms (log)", 10, 100,
                workers + " SIMULATED workers, " + adapters + " Zipf adapters: hash vs load-aware placement", file);
    }

    static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) return Double.NaN;
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int i = (int) Math.ceil(p / 100 * v.length) - 1;
        return v[Math.max(0, Math.min(v.length - 1, i))];
    }

    static double round(double x) { return Double.isNaN(x) ? x : Math.round(x * 100) / 100.0; }
}
