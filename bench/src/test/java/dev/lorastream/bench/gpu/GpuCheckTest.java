package dev.lorastream.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class GpuCheckTest {

    @Test
    void checkComparesTwoEnginesOnTheDemoModelsAndWritesTheReport(@TempDir Path dir) throws Exception {
        int code = GpuCheck.run(new String[] {"check", "--providers", "cpu@1,cpu@2", "--out", dir.resolve("out").toString(),
                "--work", dir.resolve("work").toString(), "--max-new-tokens", "6", "--repeats", "1"});

        assertThat(code).isZero();
        JsonNode report = GpuCheck.JSON.readTree(dir.resolve("out/gpu-check.json").toFile());
        assertThat(report.path("runtime").path("providers_available").toString()).contains("CPU");
        assertThat(report.path("cuda_vs_cpu_token_match").asDouble()).isEqualTo(1.0);
        assertThat(report.path("demo").path("engines").path("cpu@1").path("execution_provider").asText()).isEqualTo("CPU");
        JsonNode cases = report.path("demo").path("cases");
        assertThat(cases).hasSize(6); // backbone, three adapters, a mixed batch of 8 and one of 32
        assertThat(cases.get(4).path("adapters").toString()).contains("(backbone)", "dermatology", "cardiology", "nutrition");
        assertThat(cases.get(0).path("cpu@1").path("new_tokens").asInt()).isEqualTo(6);
        assertThat(report.path("errors")).isEmpty();
    }

    @Test
    void aProviderThatCannotOpenIsReportedAndFailsTheCheck(@TempDir Path dir) throws Exception {
        int code = GpuCheck.run(new String[] {"check", "--providers", "cuda,cpu", "--out", dir.resolve("out").toString(),
                "--work", dir.resolve("work").toString(), "--max-new-tokens", "2", "--repeats", "1"});

        JsonNode report = GpuCheck.JSON.readTree(dir.resolve("out/gpu-check.json").toFile());
        if (report.path("runtime").path("providers_available").toString().contains("CUDA")
                && report.path("demo").path("engines").path("cuda").has("open_ms")) {
            return; // a CUDA machine: nothing to fail
        }
        assertThat(code).isEqualTo(1);
        assertThat(report.path("demo").path("engines").path("cuda").path("error").asText()).contains("cuda");
        assertThat(report.path("demo").path("engines").path("cpu").path("open_ms").asDouble()).isPositive();
    }
}
