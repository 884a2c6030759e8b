package dev.lorastream.engine.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.lorastream.engine.graph.Precision;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Where the engine keeps the tensors that live across forward passes (the LoRA bank and the KV
 * cache), and the copies into, out of and within them.
 * <ul>
 *   <li>{@link Kind#HOST}: Java direct buffers that ONNX Runtime reads in place; with the CUDA
 *       provider it copies them to the device on every run (the fallback);</li>
 *   <li>{@link Kind#CUDA}: device memory of the session's CUDA allocator, reached through the C
 *       API (FFM); copies with the CUDA runtime. Runs take these tensors as inputs and write
 *       pinned outputs into them, so nothing but the logits crosses to the host per step;</li>
 *   <li>{@link Kind#ORT_CPU}: the same code path as CUDA with the session's CPU allocator, so that
 *       it runs (and is tested) on hosts without a GPU.</li>
 * </ul>
 * Copies may be asynchronous on the device: call {@link #sync} before the next run reads them.
 * Not thread-safe for tensor creation on HOST; the native kinds are.
 */
public final class DeviceMemory implements AutoCloseable {
    public enum Kind { HOST, ORT_CPU, CUDA }

    private final Kind kind;
    private final OrtEnvironment env;
    private final OrtNative ort;
    private final MemorySegment allocator;
    /** Describes the allocator's memory for views over it (native kinds). */
    private final MemorySegment memoryInfo;
    private final Cuda cuda;
    private volatile boolean closed;

    private DeviceMemory(Kind kind, OrtEnvironment env, OrtNative ort, MemorySegment allocator, MemorySegment memoryInfo, Cuda cuda) {
        this.kind = kind;
        this.env = env;
        this.ort = ort;
        this.allocator = allocator;
        this.memoryInfo = memoryInfo;
        this.cuda = cuda;
    }

    /** Java direct buffers (no session needed). */
    public static DeviceMemory host(OrtEnvironment env) {
        return new DeviceMemory(Kind.HOST, env, null, null, null, null);
    }

    /** Memory of {@code session}'s allocator on CUDA or on the CPU; close it before the session. */
    static DeviceMemory of(OrtEnvironment env, OrtSession session, Kind kind) {
        if (kind == Kind.HOST) return host(env);
        Cuda cuda = kind == Kind.CUDA ? Cuda.get() : null;
        OrtNative ort = OrtNative.get();
        String device = kind == Kind.CUDA ? "Cuda" : "Cpu";
        MemorySegment allocator = ort.allocator(session, device);
        return new DeviceMemory(kind, env, ort, allocator, ort.memoryInfo(device), cuda);
    }

    public Kind kind() { return kind; }

    /** Whether tensors are made through the C API (CUDA or ORT_CPU) rather than Java buffers. */
    public boolean usesCApi() { return kind != Kind.HOST; }

    /** Whether the data lives in GPU memory (not addressable from Java). */
    public boolean onGpu() { return kind == Kind.CUDA; }

    /** A tensor of undefined contents in the graph's activation type. */
    public DeviceTensor allocate(Precision type, long... shape) {
        return allocate(TensorType.of(type), shape);
    }

    /** A tensor of undefined contents. */
    public DeviceTensor allocate(TensorType type, long... shape) {
        if (closed) throw new IllegalStateException("device memory is closed");
        if (kind != Kind.HOST) return ort.tensor(allocator, type, shape);
        long elements = 1;
        for (long d : shape) elements = Math.multiplyExact(elements, d);
        long bytes = elements * type.bytes();
        if (bytes > Integer.MAX_VALUE) throw new IllegalStateException("a host tensor of " + bytes + " bytes exceeds 2 GiB");
        ByteBuffer buf = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
        return new DeviceTensor(hostTensor(buf, type, shape), MemorySegment.ofBuffer(buf), type, shape.clone());
    }

    private OnnxTensor hostTensor(ByteBuffer buf, TensorType type, long[] shape) {
        try {
            return switch (type) {
                case FLOAT -> OnnxTensor.createTensor(env, buf.asFloatBuffer(), shape);
                case FLOAT16 -> OnnxTensor.createTensor(env, buf.asShortBuffer(), shape, OnnxJavaType.FLOAT16);
                case INT32 -> OnnxTensor.createTensor(env, buf.asIntBuffer(), shape);
                case INT64 -> OnnxTensor.createTensor(env, buf.asLongBuffer(), shape);
                case BOOL -> OnnxTensor.createTensor(env, buf, shape, OnnxJavaType.BOOL);
            };
        } catch (OrtException e) {
            throw new IllegalStateException("cannot create a host tensor: " + e.getMessage(), e);
        }
    }

    /**
     * A tensor of {@code shape} over {@code parent}'s memory from byte {@code offset} (no copy):
     * a slice of a bank or of a KV buffer that a run reads and writes in place. Close it before
     * the parent; closing it frees nothing of the parent's.
     */
    public DeviceTensor view(DeviceTensor parent, long offset, long... shape) {
        if (closed) throw new IllegalStateException("device memory is closed");
        long bytes = parent.type().bytes();
        for (long d : shape) bytes = Math.multiplyExact(bytes, d);
        if (offset < 0 || offset + bytes > parent.bytes()) {
            throw new IllegalArgumentException("a view of " + bytes + " bytes at " + offset + " does not fit in a tensor of " + parent.bytes());
        }
        MemorySegment data = bytes == 0 ? parent.data() : parent.data().asSlice(offset, bytes);
        if (kind != Kind.HOST) return ort.view(memoryInfo, allocator, data, parent.type(), shape);
        ByteBuffer buf = data.asByteBuffer().order(ByteOrder.nativeOrder());
        return new DeviceTensor(hostTensor(buf, parent.type(), shape), data, parent.type(), shape.clone());
    }

    /** Copies {@code src} (host memory) into the start of {@code dst}, and waits until it is there. */
    public void upload(DeviceTensor dst, MemorySegment src) {
        if (src.byteSize() > dst.bytes()) throw new IllegalArgumentException(src.byteSize() + " bytes do not fit in a tensor of " + dst.bytes());
        copy(dst.data(), 0, src, 0, src.byteSize());
        sync();
    }

    /** Copies the first {@code bytes} of {@code src} into host memory {@code dst}, and waits until they are there. */
    public void download(MemorySegment dst, DeviceTensor src, long bytes) {
        copy(dst, 0, src.data(), 0, bytes);
        sync();
    }

    /** A zero-filled tensor in the graph's activation type. */
    public DeviceTensor zeros(Precision type, long... shape) {
        return zeros(TensorType.of(type), shape);
    }

    /** A zero-filled tensor. */
    public DeviceTensor zeros(TensorType type, long... shape) {
        DeviceTensor t = allocate(type, shape);
        zero(t.data(), 0, t.bytes());
        return t;
    }

    /** Copies {@code bytes} from {@code src + srcOffset} to {@code dst + dstOffset}; either side may be host or device memory. */
    public void copy(MemorySegment dst, long dstOffset, MemorySegment src, long srcOffset, long bytes) {
        if (bytes == 0) return;
        if (kind == Kind.CUDA) cuda.copy(dst.address() + dstOffset, src.address() + srcOffset, bytes);
        else MemorySegment.copy(src, srcOffset, dst, dstOffset, bytes);
    }

    /** {@code height} rows of {@code width} bytes, {@code spitch} apart in the source and {@code dpitch} apart in the target. */
    public void copy2D(MemorySegment dst, long dstOffset, long dpitch, MemorySegment src, long srcOffset, long spitch, long width, long height) {
        if (width == 0 || height == 0) return;
        if (kind == Kind.CUDA) {
            cuda.copy2D(dst.address() + dstOffset, dpitch, src.address() + srcOffset, spitch, width, height);
        } else if (width == dpitch && width == spitch) {
            MemorySegment.copy(src, srcOffset, dst, dstOffset, width * height);
        } else {
            for (long r = 0; r < height; r++) MemorySegment.copy(src, srcOffset + r * spitch, dst, dstOffset + r * dpitch, width);
        }
    }

    public void zero(MemorySegment dst, long offset, long bytes) {
        if (bytes == 0) return;
        if (kind == Kind.CUDA) cuda.zero(dst.address() + offset, bytes);
        else dst.asSlice(offset, bytes).fill((byte) 0);
    }

    /** Waits for the copies issued so far (a no-op off the GPU). */
    public void sync() {
        if (kind == Kind.CUDA) cuda.synchronize();
    }

    /**
     * Host memory to copy from: page-locked on CUDA (copies run at the bus's full rate), freed
     * when the returned segment becomes unreachable.
     */
    public MemorySegment hostBuffer(long bytes) {
        if (kind == Kind.CUDA) return cuda.pinned(Math.max(1, bytes));
        return Arena.ofAuto().allocate(Math.max(1, bytes), 64);
    }

    /** Releases the allocator; every tensor made by it must be closed first. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (memoryInfo != null) ort.releaseMemoryInfo(memoryInfo);
        if (allocator != null) ort.releaseAllocator(allocator);
    }

    @Override
    public String toString() { return "DeviceMemory[" + kind + "]"; }
}
