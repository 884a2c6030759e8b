package dev.lorastream.engine.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The project's one binding of the CUDA runtime (through FFM, from the host's libcudart, the one
 * ONNX Runtime's CUDA provider uses): copies into, out of and within device memory on the legacy
 * default stream, then one device synchronize before the next run; pinned host buffers (pooled);
 * and, for tools and status reports, plain device allocations and the device's free memory.
 */
public final class Cuda {
    /** cudaMemcpyDefault: the direction follows from the pointers (unified addressing). */
    private static final int DEFAULT_KIND = 4;
    private static volatile Cuda instance;

    /** cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost. */
    public static final int HOST_TO_DEVICE = 1, DEVICE_TO_HOST = 2;
    private final MethodHandle memcpy, memcpyAsync, memcpy2DAsync, memsetAsync, deviceSynchronize, mallocHost, freeHost, malloc, free, memGetInfo,
            errorString;

    private Cuda(SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        memcpy = linker.downcallHandle(find(lib, "cudaMemcpy"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT));
        malloc = linker.downcallHandle(find(lib, "cudaMalloc"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        free = linker.downcallHandle(find(lib, "cudaFree"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        memGetInfo = linker.downcallHandle(find(lib, "cudaMemGetInfo"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        memcpyAsync = linker.downcallHandle(find(lib, "cudaMemcpyAsync"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
        memcpy2DAsync = linker.downcallHandle(find(lib, "cudaMemcpy2DAsync"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS));
        memsetAsync = linker.downcallHandle(find(lib, "cudaMemsetAsync"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS));
        deviceSynchronize = linker.downcallHandle(find(lib, "cudaDeviceSynchronize"), FunctionDescriptor.of(JAVA_INT));
        mallocHost = linker.downcallHandle(find(lib, "cudaMallocHost"), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        freeHost = linker.downcallHandle(find(lib, "cudaFreeHost"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        errorString = linker.downcallHandle(find(lib, "cudaGetErrorString"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /** The binding, made once; fails when libcudart is not on the library path. */
    public static Cuda get() {
        Cuda c = instance;
        if (c != null) return c;
        synchronized (Cuda.class) {
            if (instance == null) {
                instance = new Cuda(CudaRuntimeLibrary.find().orElseThrow(() -> new IllegalStateException(
                        "libcudart (.so.13 or .so.12) is not on LD_LIBRARY_PATH; the engine needs it for device-resident tensors")));
            }
            return instance;
        }
    }

    private static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new IllegalStateException("libcudart has no " + name));
    }

    void copy(long dst, long src, long bytes) {
        if (bytes == 0) return;
        try {
            ok((int) memcpyAsync.invokeExact(MemorySegment.ofAddress(dst), MemorySegment.ofAddress(src), bytes, DEFAULT_KIND, MemorySegment.NULL), "cudaMemcpyAsync");
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    void copy2D(long dst, long dpitch, long src, long spitch, long width, long height) {
        if (width == 0 || height == 0) return;
        try {
            ok((int) memcpy2DAsync.invokeExact(MemorySegment.ofAddress(dst), dpitch, MemorySegment.ofAddress(src), spitch, width, height, DEFAULT_KIND,
                    MemorySegment.NULL), "cudaMemcpy2DAsync");
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    void zero(long dst, long bytes) {
        if (bytes == 0) return;
        try {
            ok((int) memsetAsync.invokeExact(MemorySegment.ofAddress(dst), 0, bytes, MemorySegment.NULL), "cudaMemsetAsync");
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public void synchronize() {
        try {
            ok((int) deviceSynchronize.invokeExact(), "cudaDeviceSynchronize");
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Idle page-locked buffers kept for reuse, at most this many bytes (system property {@code lorastream.pinned.pool.bytes}; 0: none). */
    static final long PINNED_POOL_BYTES = Long.getLong("lorastream.pinned.pool.bytes", 4L << 30);
    private final PinnedPool pinnedPool = new PinnedPool(this::mallocHost, this::freeHost, PINNED_POOL_BYTES);

    /** Page-locked host memory; when the segment becomes unreachable it goes back to a pool for the next buffer of its size. */
    MemorySegment pinned(long bytes) { return pinnedPool.take(bytes); }

    private long mallocHost(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            ok((int) mallocHost.invokeExact(out, bytes), "cudaMallocHost(" + bytes + ")");
            return out.get(ADDRESS, 0).address();
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private void freeHost(long address) {
        try {
            int ignored = (int) freeHost.invokeExact(MemorySegment.ofAddress(address));
        } catch (Throwable ignored) {
            // called from a cleaner: nothing to do
        }
    }

    /** A synchronous copy ({@code cudaMemcpy}) in the given direction. */
    public void memcpy(MemorySegment dst, MemorySegment src, long bytes, int kind) {
        try {
            ok((int) memcpy.invokeExact(dst, src, bytes, kind), "cudaMemcpy");
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Device memory outside ONNX Runtime's allocators (tools: bandwidth probes); free it with {@link #free}. */
    public MemorySegment malloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            ok((int) malloc.invokeExact(out, bytes), "cudaMalloc(" + bytes + ")");
            return out.get(ADDRESS, 0);
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public void free(MemorySegment device) {
        try {
            ok((int) free.invokeExact(device), "cudaFree");
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Page-locked host memory outside the pool (tools); free it with {@link #freeHost(MemorySegment)}. */
    public MemorySegment mallocHostUnpooled(long bytes) {
        return MemorySegment.ofAddress(mallocHost(bytes)).reinterpret(bytes);
    }

    public void freeHost(MemorySegment host) {
        try {
            ok((int) freeHost.invokeExact(host), "cudaFreeHost");
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code {free, total}} bytes of the current device ({@code cudaMemGetInfo}). */
    public long[] memInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(JAVA_LONG), t = a.allocate(JAVA_LONG);
            ok((int) memGetInfo.invokeExact(f, t), "cudaMemGetInfo");
            return new long[] {f.get(JAVA_LONG, 0), t.get(JAVA_LONG, 0)};
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private void ok(int err, String what) {
        if (err == 0) return;
        String text;
        try {
            text = ((MemorySegment) errorString.invokeExact(err)).reinterpret(256).getString(0);
        } catch (Throwable t) {
            text = "?";
        }
        throw new IllegalStateException(what + " failed: cudaError " + err + " (" + text + ")");
    }
}
