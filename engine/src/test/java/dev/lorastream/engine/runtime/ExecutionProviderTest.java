package dev.lorastream.engine.runtime;

import dev.lorastream.engine.onnx.OnnxLoraEngine;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import dev.lorastream.engine.EngineConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class ExecutionProviderTest {
    @TempDir
    Path tmp;

    @Test
    void cudaFailsClearlyWhenThisOnnxRuntimeBuildHasNoCudaProvider() {
        assumeFalse(OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA), "this ONNX Runtime build has CUDA");

        assertThatThrownBy(() -> OnnxLoraEngine.open(new EngineConfig(tmp, null, "cuda", 4)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("execution provider 'cuda' is not available in this ONNX Runtime build")
                .hasMessageContaining("onnxruntime_gpu");
    }

    @Test
    void theCudaDiagnosisNamesWhatTheDynamicLoaderCannotFind() {
        String d = ExecutionProvider.cudaDiagnosis();
        if (d.contains("the dynamic loader reports")) {
            assertThat(d).containsAnyOf("libcudart", "libcublas", "libcudnn", "libonnxruntime_providers_cuda").contains("LD_LIBRARY_PATH=");
        } else {
            assertThat(d).contains("the CUDA, cuBLAS and cuDNN libraries load"); // a host with CUDA
        }
    }

    @Test
    void unknownProvidersAreRejectedInTheConfig() {
        assertThatThrownBy(() -> new EngineConfig(tmp, null, "tpu", 4)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'tpu' is not supported (cpu, cuda)");
    }
}
