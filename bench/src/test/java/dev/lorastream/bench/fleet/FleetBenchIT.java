package dev.lorastream.bench.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fleet benchmark's harness on a small fleet (three simulated workers, 60 adapters) against the
 * embedded broker and registry: a load step with a hot-spot shift under load-aware placement, then
 * the fault run, whose child-JVM worker is killed mid-run. Checks the harness's bookkeeping (every
 * request answered once, the figures computed), not the performance.
 */
class FleetBenchIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aRampStepWithAShiftAndAKilledWorkerAreMeasuredAndNothingIsLostOrRepeated(@TempDir Path dir) throws Exception {
        String[] common = {"--workers", "3", "--adapters", "60", "--partitions", "6", "--max-batch", "8", "--device-slots", "8", "--host-slots", "16",
                "--time-scale", "4", "--new-tokens", "8", "--step-s", "6", "--warmup-s", "2", "--placements", "load-aware", "--window-s", "2"};
        int ramp = new CommandLine(new FleetBench()).execute(concat(common, "--loads", "0.5", "--shift-load", "0.5",
                "--out", dir.resolve("ramp").toString(), "--work", dir.resolve("w1").toString()));
        assertThat(ramp).isZero();
        JsonNode r = JSON.readTree(dir.resolve("ramp/placement.json").toFile());
        assertThat(r.path("simulated").asText()).startsWith("SIMULATED");
        JsonNode run = r.path("runs").get(0);
        assertThat(run.path("all_answered").asBoolean()).isTrue();
        assertThat(run.path("duplicates").asLong()).isZero();
        assertThat(run.path("attributions_missing").asLong()).isZero();
        assertThat(run.path("attributions_repeated").asLong()).isZero();
        assertThat(run.path("sent").asLong()).isPositive().isEqualTo(run.path("answered").asLong());
        JsonNode step = run.path("steps").get(0);
        assertThat(step.path("e2e_p99_ms").asDouble()).isPositive();
        assertThat(step.path("utilisation_mean").asDouble()).isBetween(0.0, 1.01);
        assertThat(step.path("shift").path("p99_over_time").size()).isGreaterThan(3);
        assertThat(run.path("placement_decisions").path("no_fleet").asDouble()).as("the router saw the fleet").isZero();
        assertThat(dir.resolve("ramp/placement.png")).exists();

        int fault = new CommandLine(new FleetBench()).execute(concat(common, "--fault", "--fault-load", "0.5",
                "--out", dir.resolve("fault").toString(), "--work", dir.resolve("w2").toString()));
        assertThat(fault).isZero();
        JsonNode f = JSON.readTree(dir.resolve("fault/placement-fault.json").toFile()).path("fault").path("load-aware");
        assertThat(f.path("unanswered").asLong()).as("requests never answered").isZero();
        assertThat(f.path("duplicates").asLong()).isZero();
        assertThat(f.path("attributions_missing").asLong()).isZero();
        assertThat(f.path("attributions_repeated").asLong()).isZero();
        assertThat(f.path("answered_by_victim_after_kill").asLong()).isZero();
        assertThat(f.path("victim_adapters_served_elsewhere").asLong()).isEqualTo(f.path("victim_adapters_requested_after_kill").asLong()).isPositive();
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
