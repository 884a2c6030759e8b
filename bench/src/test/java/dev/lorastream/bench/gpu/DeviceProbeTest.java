package dev.lorastream.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class DeviceProbeTest {

    /** The CPU twin of the CUDA probe: the same C API calls through FFM, the CPU allocator instead of CUDA's. */
    @Test
    void tensorsMadeThroughTheCApiServeAsInputsAndPinnedOutputs(@TempDir Path dir) throws Exception {
        int code = GpuCheck.run(new String[] {"device-probe", "--provider", "cpu", "--k", "64", "--n", "32", "--runs", "2",
                "--out", dir.toString()});

        JsonNode r = GpuCheck.JSON.readTree(dir.resolve("device-probe.json").toFile());
        assertThat(r.path("error").isMissingNode()).as(r.path("error").asText()).isTrue();
        assertThat(code).isZero();
        assertThat(r.path("steps_ok")).hasSize(8);
        assertThat(r.path("max_abs_diff_w_host_vs_device").asDouble()).isZero();
        assertThat(r.path("max_abs_diff_pinned_output").asDouble()).isZero();
    }
}
