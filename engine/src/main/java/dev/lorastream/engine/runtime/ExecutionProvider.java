package dev.lorastream.engine.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.providers.OrtCUDAProviderOptions;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** Where ONNX Runtime runs the decoder. */
public enum ExecutionProvider {
    CPU, CUDA;

    /** Libraries ONNX Runtime's CUDA provider (CUDA 13 / 12 builds) loads, in the order they are tried. */
    static final List<List<String>> CUDA_LIBRARIES = List.of(
            List.of("libcudart.so.13", "libcudart.so.12"),
            List.of("libcublasLt.so.13", "libcublasLt.so.12"),
            List.of("libcublas.so.13", "libcublas.so.12"),
            List.of("libcudnn.so.9"));

    public static ExecutionProvider parse(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "cpu" -> CPU;
            case "cuda" -> CUDA;
            default -> throw new IllegalArgumentException("execution provider '" + name + "' is not supported (cpu, cuda)");
        };
    }

    /** Fails with a clear message when this ONNX Runtime build lacks the provider. */
    public void checkAvailable() {
        if (this == CUDA && !OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
            throw new IllegalStateException("execution provider 'cuda' is not available in this ONNX Runtime build (available: "
                    + OrtEnvironment.getAvailableProviders() + "); run on a CUDA host with com.microsoft.onnxruntime:onnxruntime_gpu "
                    + "on the class path instead of the CPU artifact, or use 'cpu'");
        }
    }

    /**
     * Adds the provider to the options. CUDA runs with {@code use_tf32} as asked (off: float32
     * matmuls in full float32, so greedy tokens match the CPU's), and {@code enable_cuda_graph}
     * when asked (runs with a {@code gpu_graph_id} are captured once, then replayed).
     *
     * @throws IllegalStateException naming what is missing when the CUDA provider cannot be loaded
     */
    void configure(OrtSession.SessionOptions options, boolean tf32, boolean cudaGraphs) throws OrtException {
        checkAvailable();
        if (this != CUDA) return;
        try (OrtCUDAProviderOptions cuda = new OrtCUDAProviderOptions(0)) {
            cuda.add("use_tf32", tf32 ? "1" : "0");
            if (cudaGraphs) cuda.add("enable_cuda_graph", "1");
            options.addCUDA(cuda);
        } catch (OrtException | RuntimeException e) {
            throw new IllegalStateException("the CUDA execution provider could not be loaded: " + e.getMessage() + cudaDiagnosis(), e);
        }
    }

    /** What the dynamic loader says about the libraries the CUDA provider needs (its reason is otherwise only on stderr). */
    static String cudaDiagnosis() {
        List<String> problems = new ArrayList<>();
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle dlopen = linker.downcallHandle(linker.defaultLookup().find("dlopen").orElseThrow(), FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
            MethodHandle dlerror = linker.downcallHandle(linker.defaultLookup().find("dlerror").orElseThrow(), FunctionDescriptor.of(ADDRESS));
            List<String> names = new ArrayList<>();
            for (List<String> alternatives : CUDA_LIBRARIES) names.add(String.join("|", alternatives));
            String nativePath = System.getProperty("onnxruntime.native.path");
            if (nativePath != null) {
                Path provider = Path.of(nativePath, "libonnxruntime_providers_cuda.so");
                if (!Files.isRegularFile(provider)) problems.add(provider + " does not exist");
                else names.add(provider.toString());
            }
            try (Arena a = Arena.ofConfined()) {
                for (String alternatives : names) {
                    String last = null;
                    boolean found = false;
                    for (String name : alternatives.split("\\|")) {
                        MemorySegment h = (MemorySegment) dlopen.invokeExact(a.allocateFrom(name), 1 /* RTLD_LAZY */);
                        if (h.address() != 0) {
                            found = true;
                            break;
                        }
                        MemorySegment err = (MemorySegment) dlerror.invokeExact();
                        last = err.address() == 0 ? name + ": not found" : err.reinterpret(4096).getString(0);
                    }
                    if (!found) problems.add(last);
                }
            }
        } catch (Throwable t) {
            return " (could not check the CUDA libraries: " + t + ")";
        }
        String ld = System.getenv("LD_LIBRARY_PATH");
        return problems.isEmpty()
                ? " (the CUDA, cuBLAS and cuDNN libraries load; see ONNX Runtime's message on stderr)"
                : "; the dynamic loader reports: " + String.join("; ", problems) + " (LD_LIBRARY_PATH=" + (ld == null ? "" : ld)
                + "; put CUDA's and cuDNN's library folders on it, or run the bundle's bin/doctor)";
    }
}
