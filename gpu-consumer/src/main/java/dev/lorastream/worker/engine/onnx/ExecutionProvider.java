package dev.lorastream.worker.engine.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;

import java.util.Locale;

/** Where ONNX Runtime runs the decoder. */
public enum ExecutionProvider {
    CPU, CUDA;

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

    void configure(OrtSession.SessionOptions options) throws OrtException {
        checkAvailable();
        if (this == CUDA) options.addCUDA(0);
    }
}
