package dev.lorastream.engine.runtime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.lorastream.engine.graph.Precision;
import dev.lorastream.engine.model.ModelConfig;

import java.nio.file.Path;

/**
 * The resident ONNX Runtime session of a decoder graph and the memory its persistent tensors live
 * in ({@link DeviceMemory} of the session's allocator: device memory on CUDA). The forward passes
 * ({@link FusedForwardPass}, {@link ReferenceForwardPass}) feed it; on CUDA with graph capture on,
 * decode steps of the fused graph are replayed as CUDA graphs.
 */
public final class DecoderSession implements AutoCloseable {
    /** Diagnostics: a file prefix here makes sessions opened from now on write ONNX Runtime's profile (see {@link #endProfiling}). */
    public static final String PROFILE_PROPERTY = "lorastream.ort.profile";

    private final OrtEnvironment env;
    private final OrtSession session;
    private final ModelConfig config;
    private final Precision precision;
    private final DeviceMemory memory;
    private final boolean cudaGraphs;
    private final ExecutionProvider provider;
    private final boolean tf32;
    private final int intraOpThreads;

    private DecoderSession(OrtEnvironment env, OrtSession session, ModelConfig config, Precision precision, DeviceMemory memory, boolean cudaGraphs,
                           ExecutionProvider provider, boolean tf32, int intraOpThreads) {
        this.env = env;
        this.session = session;
        this.config = config;
        this.precision = precision;
        this.memory = memory;
        this.cudaGraphs = cudaGraphs;
        this.provider = provider;
        this.tf32 = tf32;
        this.intraOpThreads = intraOpThreads;
    }

    /** A float32 session whose cache lives in Java buffers (TF32 off on CUDA). */
    public static DecoderSession open(OrtEnvironment env, Path onnxFile, ModelConfig config, ExecutionProvider provider, int intraOpThreads) throws OrtException {
        return open(env, onnxFile, config, provider, intraOpThreads, false, Precision.FP32, false, false);
    }

    /**
     * @param tf32          CUDA: TF32 matmuls
     * @param precision     the graph's precision (what its cache and bank inputs take)
     * @param deviceTensors keep the cache (and the bank made by the caller in {@link #memory()}) in
     *                      the session allocator's memory: device memory on CUDA, ONNX Runtime's CPU memory on the CPU
     * @param cudaGraphs    CUDA: let runs with a {@code gpu_graph_id} be captured and replayed as CUDA graphs
     */
    public static DecoderSession open(OrtEnvironment env, Path onnxFile, ModelConfig config, ExecutionProvider provider, int intraOpThreads,
                                      boolean tf32, Precision precision, boolean deviceTensors, boolean cudaGraphs) throws OrtException {
        if (cudaGraphs && (provider != ExecutionProvider.CUDA || !deviceTensors)) {
            throw new IllegalArgumentException("CUDA graphs need the CUDA provider and device tensors");
        }
        if (precision != Precision.FP32 && !deviceTensors) throw new IllegalArgumentException("a " + precision.label() + " graph needs device tensors");
        OrtSession session;
        try (OrtSession.SessionOptions options = options(provider, intraOpThreads, tf32, cudaGraphs)) {
            session = env.createSession(onnxFile.toString(), options);
        }
        DeviceMemory memory;
        try {
            memory = deviceTensors
                    ? DeviceMemory.of(env, session, provider == ExecutionProvider.CUDA ? DeviceMemory.Kind.CUDA : DeviceMemory.Kind.ORT_CPU)
                    : DeviceMemory.host(env);
        } catch (RuntimeException e) {
            session.close();
            throw new IllegalStateException("cannot keep tensors in " + provider + " memory: " + e.getMessage(), e);
        }
        return new DecoderSession(env, session, config, precision, memory, cudaGraphs, provider, tf32, intraOpThreads);
    }

    private static OrtSession.SessionOptions options(ExecutionProvider provider, int intraOpThreads, boolean tf32, boolean cudaGraphs) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            options.setIntraOpNumThreads(intraOpThreads);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            String profile = System.getProperty(PROFILE_PROPERTY);
            if (profile != null && !profile.isBlank()) options.enableProfiling(profile);
            provider.configure(options, tf32, cudaGraphs);
            return options;
        } catch (OrtException | RuntimeException e) {
            options.close();
            throw e;
        }
    }

    /**
     * A second, small session on this one's provider and options (the sampling head that reads a
     * decode step's logits where the decoder left them): it takes tensors made in {@link #memory()}
     * and, with CUDA graphs on, captures runs that carry a {@code gpu_graph_id}. Its caller closes it.
     */
    OrtSession openSibling(byte[] model) throws OrtException {
        try (OrtSession.SessionOptions options = options(provider, intraOpThreads, tf32, cudaGraphs)) {
            return env.createSession(model, options);
        }
    }

    /** Ends ONNX Runtime's profiling (sessions opened with {@link #PROFILE_PROPERTY}) and returns the profile's file. */
    public String endProfiling() throws OrtException {
        return session.endProfiling();
    }

    /** Where the cache lives, and where the caller should make the bank. */
    public DeviceMemory memory() { return memory; }

    public Precision precision() { return precision; }

    /** Whether runs with a graph id are captured and replayed as CUDA graphs. */
    public boolean cudaGraphs() { return cudaGraphs; }

    /** The ONNX Runtime session, for the forward passes of this package. */
    OrtSession ortSession() { return session; }

    OrtEnvironment env() { return env; }

    ModelConfig config() { return config; }

    /** Closes the allocator (every tensor made in {@link #memory} must be closed first), then the session. */
    @Override
    public void close() {
        try {
            memory.close();
        } catch (RuntimeException e) {
            // the session is closed regardless
        }
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing the ONNX Runtime session failed: " + e.getMessage(), e);
        }
    }
}
