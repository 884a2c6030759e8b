package dev.lorastream.bench.gpu;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.lorastream.engine.graph.OnnxGraphBuilder;
import dev.lorastream.engine.runtime.CudaRuntimeLibrary;
import dev.lorastream.engine.graph.OnnxModelWriter;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@code gpu-check device-probe}: can the Java engine keep tensors in device memory across runs
 * with the stock {@code ai.onnxruntime} classes plus a few ONNX Runtime C API calls through FFM,
 * and what does it save? On a graph {@code y = MatMul(x, w)} with a 64 MiB {@code w} (a stand-in
 * for the LoRA bank or a KV cache) it times runs with {@code w} fed from host memory (ONNX Runtime
 * copies it to the device on every run, as the engine's bank and KV cache are today) against
 * {@code w} allocated once in device memory through the session's CUDA allocator
 * ({@code CreateMemoryInfo("Cuda")}, {@code CreateAllocator}, {@code CreateTensorAsOrtValue}),
 * filled with one {@code cudaMemcpy}, wrapped as an {@link OnnxTensor}; then the output pinned in
 * device memory too. Checks the outputs agree, measures host-to-device bandwidth (pageable and
 * pinned). Writes {@code device-probe.json}. Research code for the engine's onnx package; on
 * {@code --provider cpu} it runs the same path with the CPU allocator.
 */
final class DeviceProbe {
    // OrtApi slots (x 8 = byte offset), checked against ONNX Runtime 1.28 (../shared/facts.md)
    static final int CREATE_STATUS = 0, GET_ERROR_MESSAGE = 2, CREATE_TENSOR_AS_ORT_VALUE = 48, GET_TENSOR_MUTABLE_DATA = 51,
            CREATE_MEMORY_INFO = 68, RELEASE_STATUS = 93, RELEASE_MEMORY_INFO = 94, CREATE_ALLOCATOR = 131;
    static final int ORT_DEVICE_ALLOCATOR = 0, ORT_ARENA_ALLOCATOR = 1, ORT_MEM_TYPE_DEFAULT = 0, ELEMENT_FLOAT = 1;
    static final int H2D = 1, D2H = 2;

    private final Linker linker = Linker.nativeLinker();
    private final MemorySegment api;
    private final boolean cuda;
    private final Cudart cudart;

    private DeviceProbe(long apiHandle, boolean cuda) {
        this.api = MemorySegment.ofAddress(apiHandle).reinterpret(8L * 400);
        this.cuda = cuda;
        this.cudart = cuda ? new Cudart(linker) : null;
    }

    static int run(Map<String, String> o) throws Exception {
        boolean cuda = o.getOrDefault("provider", "cuda").equals("cuda");
        int k = Integer.parseInt(o.getOrDefault("k", "4096")), n = Integer.parseInt(o.getOrDefault("n", "4096"));
        int runs = Integer.parseInt(o.getOrDefault("runs", "20"));
        Path out = Path.of(o.getOrDefault("out", "."));
        Files.createDirectories(out);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("provider", cuda ? "cuda" : "cpu");
        report.put("w_shape", List.of(k, n));
        report.put("w_mib", 4L * k * n >> 20);
        report.put("runs", runs);
        List<String> steps = new ArrayList<>();
        report.put("steps_ok", steps);
        int code = 0;
        try {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            Class<?> rt = Class.forName("ai.onnxruntime.OnnxRuntime");
            Field h = rt.getDeclaredField("ortApiHandle");
            h.setAccessible(true);
            DeviceProbe p = new DeviceProbe(h.getLong(null), cuda);
            p.selfTest();
            steps.add("C API slots answer (CreateStatus/GetErrorMessage round trip)");
            p.probe(env, k, n, runs, report, steps);
        } catch (Throwable t) {
            report.put("error", GpuCheck.stack(t));
            System.out.println("device-probe FAILED: " + t);
            code = 1;
        }
        Files.write(out.resolve("device-probe.json"), GpuCheck.JSON.writeValueAsBytes(report));
        System.out.println("device-probe: " + GpuCheck.JSON.writeValueAsString(report));
        return code;
    }

    private void probe(OrtEnvironment env, int k, int n, int runs, Map<String, Object> report, List<String> steps) throws Throwable {
        OnnxGraphBuilder g = new OnnxGraphBuilder("probe");
        g.input("x", OnnxGraphBuilder.FLOAT, "b", (long) k);
        g.input("w", OnnxGraphBuilder.FLOAT, (long) k, (long) n);
        g.op("MatMul", "y", List.of("x", "w"));
        g.output("y", OnnxGraphBuilder.FLOAT, "b", (long) n);
        byte[] model = OnnxModelWriter.toBytes(g);
        int b = 1;
        Random rnd = new Random(1);
        FloatBuffer xb = direct(b * k), wb = direct((long) k * n);
        for (int i = 0; i < b * k; i++) xb.put(i, (float) rnd.nextGaussian());
        for (int i = 0; i < k * n; i++) wb.put(i, (float) (rnd.nextGaussian() / 64));
        long wBytes = 4L * k * n;
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            if (cuda) opts.addCUDA(0);
            try (OrtSession session = env.createSession(model, opts);
                 OnnxTensor x = OnnxTensor.createTensor(env, xb, new long[] {b, k});
                 OnnxTensor wHost = OnnxTensor.createTensor(env, wb, new long[] {k, n})) {
                steps.add("session on " + (cuda ? "CUDA" : "CPU"));
                // (a) w from host memory on every run
                float[] yHost = null;
                double[] hostMs = new double[runs];
                for (int r = -3; r < runs; r++) {
                    long t = System.nanoTime();
                    try (OrtSession.Result res = session.run(Map.of("x", x, "w", wHost))) {
                        float[] y = ((float[][]) res.get(0).getValue())[0];
                        if (r >= 0) hostMs[r] = (System.nanoTime() - t) / 1e6;
                        yHost = y;
                    }
                }
                report.put("run_ms_w_from_host", stats(hostMs));
                steps.add("runs with w fed from host memory");

                // (b) w allocated once in device memory, filled by one copy
                MemorySegment alloc = allocator(session);
                steps.add("CreateMemoryInfo(" + (cuda ? "Cuda" : "Cpu") + ") + CreateAllocator on the session");
                MemorySegment wValue = createTensor(alloc, new long[] {k, n});
                MemorySegment wPtr = dataPointer(wValue);
                steps.add("CreateTensorAsOrtValue + GetTensorMutableData (device pointer 0x" + Long.toHexString(wPtr.address()) + ")");
                long t0 = System.nanoTime();
                copyIn(wPtr, MemorySegment.ofBuffer(wb), wBytes);
                double fillMs = (System.nanoTime() - t0) / 1e6;
                report.put("w_upload_ms_one_copy_pageable", round3(fillMs));
                OnnxTensor wDev = wrap(wValue, alloc, new long[] {k, n});
                steps.add("device tensor wrapped as OnnxTensor");
                float[] yDevIn = null;
                double[] devMs = new double[runs];
                for (int r = -3; r < runs; r++) {
                    long t = System.nanoTime();
                    try (OrtSession.Result res = session.run(Map.of("x", x, "w", wDev))) {
                        float[] y = ((float[][]) res.get(0).getValue())[0];
                        if (r >= 0) devMs[r] = (System.nanoTime() - t) / 1e6;
                        yDevIn = y;
                    }
                }
                report.put("run_ms_w_in_device", stats(devMs));
                report.put("max_abs_diff_w_host_vs_device", maxDiff(yHost, yDevIn));
                steps.add("runs with w resident in device memory, output agrees");

                // (c) the output pinned in device memory as well (no copy back; what a KV cache needs)
                MemorySegment yValue = createTensor(alloc, new long[] {b, n});
                OnnxTensor yDev = wrap(yValue, alloc, new long[] {b, n});
                double[] pinnedMs = new double[runs];
                for (int r = -3; r < runs; r++) {
                    long t = System.nanoTime();
                    try (OrtSession.Result res = session.run(Map.of("x", x, "w", wDev), Map.<String, OnnxValue>of("y", yDev))) {
                        if (cuda) cudart.deviceSynchronize();
                        if (r >= 0) pinnedMs[r] = (System.nanoTime() - t) / 1e6;
                    }
                }
                float[] yBack = new float[n];
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment host = a.allocate(4L * n, 64);
                    copyOut(host, dataPointer(yValue), 4L * n);
                    MemorySegment.copy(host, ValueLayout.JAVA_FLOAT, 0, yBack, 0, n);
                }
                report.put("run_ms_w_and_y_in_device", stats(pinnedMs));
                report.put("max_abs_diff_pinned_output", maxDiff(yHost, yBack));
                steps.add("runs with the output pinned in device memory, read back, agrees");
                if (cuda) bandwidth(report, steps);
                yDev.close();
                wDev.close();
            }
        }
    }

    /** Host-to-device copies of 256 MiB from pageable and from pinned (cudaMallocHost) memory. */
    private void bandwidth(Map<String, Object> report, List<String> steps) throws Throwable {
        H2d h2d = measureH2d(cudart, 256L << 20);
        report.put("h2d_gb_per_s_pageable", round3(h2d.pageableGbPerS()));
        report.put("h2d_gb_per_s_pinned", round3(h2d.pinnedGbPerS()));
        steps.add("host-to-device bandwidth measured");
    }

    /** Best-of-5 host-to-device copy times of {@code bytes} from pageable and from pinned memory. */
    record H2d(long bytes, double pageableSeconds, double pinnedSeconds) {
        double pageableGbPerS() { return bytes / pageableSeconds / 1e9; }

        double pinnedGbPerS() { return bytes / pinnedSeconds / 1e9; }
    }

    static H2d measureH2d(Cudart cudart, long bytes) throws Throwable {
        MemorySegment dev = cudart.malloc(bytes);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pageable = a.allocate(bytes, 4096);
            pageable.fill((byte) 1);
            MemorySegment pinned = cudart.mallocHost(bytes);
            pinned.fill((byte) 1);
            double best = Double.MAX_VALUE, bestPinned = Double.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                long t = System.nanoTime();
                cudart.memcpy(dev, pageable, bytes, H2D);
                best = Math.min(best, (System.nanoTime() - t) / 1e9);
                t = System.nanoTime();
                cudart.memcpy(dev, pinned, bytes, H2D);
                bestPinned = Math.min(bestPinned, (System.nanoTime() - t) / 1e9);
            }
            cudart.freeHost(pinned);
            return new H2d(bytes, best, bestPinned);
        } finally {
            cudart.free(dev);
        }
    }

    // ---------------------------------------------------------------- the C API through FFM

    private MethodHandle fn(int slot, FunctionDescriptor d) {
        return linker.downcallHandle(api.get(ADDRESS, 8L * slot), d);
    }

    private void check(MemorySegment status, String what) throws Throwable {
        if (status.address() == 0) return;
        MemorySegment msg = (MemorySegment) fn(GET_ERROR_MESSAGE, FunctionDescriptor.of(ADDRESS, ADDRESS)).invokeExact(status);
        String text = msg.reinterpret(4096).getString(0);
        fn(RELEASE_STATUS, FunctionDescriptor.ofVoid(ADDRESS)).invokeExact(status);
        throw new IllegalStateException(what + ": " + text);
    }

    /** CreateStatus then GetErrorMessage: proves the table is the one the slots were counted in. */
    private void selfTest() throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = (MemorySegment) fn(CREATE_STATUS, FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS))
                    .invokeExact(1, a.allocateFrom("probe"));
            MemorySegment msg = (MemorySegment) fn(GET_ERROR_MESSAGE, FunctionDescriptor.of(ADDRESS, ADDRESS)).invokeExact(st);
            String text = msg.reinterpret(64).getString(0);
            fn(RELEASE_STATUS, FunctionDescriptor.ofVoid(ADDRESS)).invokeExact(st);
            if (!text.equals("probe")) throw new IllegalStateException("OrtApi slot check failed: GetErrorMessage gave '" + text + "'");
        }
    }

    private MemorySegment allocator(OrtSession session) throws Throwable {
        Field f = OrtSession.class.getDeclaredField("nativeHandle");
        f.setAccessible(true);
        MemorySegment sessionPtr = MemorySegment.ofAddress(f.getLong(session));
        IllegalStateException last = null;
        for (int type : new int[] {ORT_DEVICE_ALLOCATOR, ORT_ARENA_ALLOCATOR}) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ADDRESS);
                MemorySegment st = (MemorySegment) fn(CREATE_MEMORY_INFO, FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS))
                        .invokeExact(a.allocateFrom(cuda ? "Cuda" : "Cpu"), type, 0, ORT_MEM_TYPE_DEFAULT, out);
                check(st, "CreateMemoryInfo");
                MemorySegment info = out.get(ADDRESS, 0);
                MemorySegment allocOut = a.allocate(ADDRESS);
                st = (MemorySegment) fn(CREATE_ALLOCATOR, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS)).invokeExact(sessionPtr, info, allocOut);
                fn(RELEASE_MEMORY_INFO, FunctionDescriptor.ofVoid(ADDRESS)).invokeExact(info);
                check(st, "CreateAllocator");
                return allocOut.get(ADDRESS, 0);
            } catch (IllegalStateException e) {
                last = e;
            }
        }
        throw last;
    }

    private MemorySegment createTensor(MemorySegment alloc, long[] shape) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dims = a.allocateFrom(JAVA_LONG, shape);
            MemorySegment out = a.allocate(ADDRESS);
            MemorySegment st = (MemorySegment) fn(CREATE_TENSOR_AS_ORT_VALUE, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS))
                    .invokeExact(alloc, dims, (long) shape.length, ELEMENT_FLOAT, out);
            check(st, "CreateTensorAsOrtValue");
            return out.get(ADDRESS, 0);
        }
    }

    private MemorySegment dataPointer(MemorySegment value) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            MemorySegment st = (MemorySegment) fn(GET_TENSOR_MUTABLE_DATA, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS)).invokeExact(value, out);
            check(st, "GetTensorMutableData");
            return out.get(ADDRESS, 0);
        }
    }

    /** The OrtValue as an OnnxTensor (package-private constructors); closing it releases the value. */
    private static OnnxTensor wrap(MemorySegment value, MemorySegment alloc, long[] shape) throws ReflectiveOperationException {
        Constructor<TensorInfo> ti = TensorInfo.class.getDeclaredConstructor(long[].class, OnnxJavaType.class, TensorInfo.OnnxTensorType.class);
        ti.setAccessible(true);
        TensorInfo info = ti.newInstance(shape, OnnxJavaType.FLOAT, TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT);
        Constructor<OnnxTensor> c = OnnxTensor.class.getDeclaredConstructor(long.class, long.class, TensorInfo.class);
        c.setAccessible(true);
        return c.newInstance(value.address(), alloc.address(), info);
    }

    private void copyIn(MemorySegment devPtr, MemorySegment host, long bytes) throws Throwable {
        if (cuda) cudart.memcpy(devPtr, host, bytes, H2D);
        else MemorySegment.copy(host, 0, devPtr.reinterpret(bytes), 0, bytes);
    }

    private void copyOut(MemorySegment host, MemorySegment devPtr, long bytes) throws Throwable {
        if (cuda) cudart.memcpy(host, devPtr, bytes, D2H);
        else MemorySegment.copy(devPtr.reinterpret(bytes), 0, host, 0, bytes);
    }

    /** The few CUDA runtime calls the probe needs, from the host's libcudart. */
    static final class Cudart {
        final MethodHandle memcpy, malloc, free, mallocHost, freeHost, sync;

        Cudart(Linker linker) {
            SymbolLookup lib = CudaRuntimeLibrary.find().orElseThrow(() -> new IllegalStateException("libcudart not found on LD_LIBRARY_PATH"));
            memcpy = linker.downcallHandle(lib.find("cudaMemcpy").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
            malloc = linker.downcallHandle(lib.find("cudaMalloc").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
            free = linker.downcallHandle(lib.find("cudaFree").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS));
            mallocHost = linker.downcallHandle(lib.find("cudaMallocHost").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
            freeHost = linker.downcallHandle(lib.find("cudaFreeHost").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS));
            sync = linker.downcallHandle(lib.find("cudaDeviceSynchronize").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
        }

        void memcpy(MemorySegment dst, MemorySegment src, long bytes, int kind) throws Throwable {
            ok((int) memcpy.invokeExact(dst, src, bytes, kind), "cudaMemcpy");
        }

        MemorySegment malloc(long bytes) throws Throwable {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ADDRESS);
                ok((int) malloc.invokeExact(out, bytes), "cudaMalloc");
                return out.get(ADDRESS, 0);
            }
        }

        MemorySegment mallocHost(long bytes) throws Throwable {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ADDRESS);
                ok((int) mallocHost.invokeExact(out, bytes), "cudaMallocHost");
                return out.get(ADDRESS, 0).reinterpret(bytes);
            }
        }

        void free(MemorySegment p) throws Throwable { ok((int) free.invokeExact(p), "cudaFree"); }

        void freeHost(MemorySegment p) throws Throwable { ok((int) freeHost.invokeExact(p), "cudaFreeHost"); }

        void deviceSynchronize() throws Throwable { ok((int) sync.invokeExact(), "cudaDeviceSynchronize"); }

        private static void ok(int err, String what) {
            if (err != 0) throw new IllegalStateException(what + " failed with cudaError " + err);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static FloatBuffer direct(long floats) {
        return ByteBuffer.allocateDirect(Math.toIntExact(floats * 4)).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static Map<String, Object> stats(double[] ms) {
        double[] s = ms.clone();
        java.util.Arrays.sort(s);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("median", round3(s[s.length / 2]));
        m.put("min", round3(s[0]));
        m.put("max", round3(s[s.length - 1]));
        return m;
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }

    private static double round3(double v) { return Math.round(v * 1000) / 1000.0; }
}
