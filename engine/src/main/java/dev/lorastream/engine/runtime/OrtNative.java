package dev.lorastream.engine.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few ONNX Runtime C API functions the Java API lacks, called through FFM on the library the
 * Java API has loaded: an allocator of a session's memory ({@code CreateMemoryInfo} +
 * {@code CreateAllocator}), tensors made by it ({@code CreateTensorAsOrtValue}), their data
 * pointers ({@code GetTensorMutableData}); such a tensor is wrapped as an {@link OnnxTensor} and
 * serves as an input or a pinned output of an ordinary {@link OrtSession#run}. OrtApi slots
 * counted on ONNX Runtime 1.28 (and checked at start by a CreateStatus/GetErrorMessage round trip).
 */
final class OrtNative {
    static final int CREATE_STATUS = 0, GET_ERROR_MESSAGE = 2, CREATE_TENSOR_AS_ORT_VALUE = 48, CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE = 49,
            GET_TENSOR_MUTABLE_DATA = 51,
            CREATE_MEMORY_INFO = 68, RELEASE_STATUS = 93, RELEASE_MEMORY_INFO = 94, CREATE_ALLOCATOR = 131, RELEASE_ALLOCATOR = 132;
    private static final int ORT_DEVICE_ALLOCATOR = 0, ORT_ARENA_ALLOCATOR = 1, ORT_MEM_TYPE_DEFAULT = 0;
    private static volatile OrtNative instance;

    private final MethodHandle getErrorMessage, releaseStatus, createTensor, createTensorWithData, tensorData, createMemoryInfo, releaseMemoryInfo,
            createAllocator, releaseAllocator;
    private final Field sessionHandle;
    private final Constructor<TensorInfo> tensorInfo;
    private final Constructor<OnnxTensor> onnxTensor;

    private OrtNative(long apiHandle) throws ReflectiveOperationException {
        Linker linker = Linker.nativeLinker();
        MemorySegment api = MemorySegment.ofAddress(apiHandle).reinterpret(8L * 400);
        getErrorMessage = fn(linker, api, GET_ERROR_MESSAGE, FunctionDescriptor.of(ADDRESS, ADDRESS));
        releaseStatus = fn(linker, api, RELEASE_STATUS, FunctionDescriptor.ofVoid(ADDRESS));
        createTensor = fn(linker, api, CREATE_TENSOR_AS_ORT_VALUE, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
        createTensorWithData = fn(linker, api, CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE,
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
        tensorData = fn(linker, api, GET_TENSOR_MUTABLE_DATA, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        createMemoryInfo = fn(linker, api, CREATE_MEMORY_INFO, FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        releaseMemoryInfo = fn(linker, api, RELEASE_MEMORY_INFO, FunctionDescriptor.ofVoid(ADDRESS));
        createAllocator = fn(linker, api, CREATE_ALLOCATOR, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        releaseAllocator = fn(linker, api, RELEASE_ALLOCATOR, FunctionDescriptor.ofVoid(ADDRESS));
        sessionHandle = OrtSession.class.getDeclaredField("nativeHandle");
        sessionHandle.setAccessible(true);
        tensorInfo = TensorInfo.class.getDeclaredConstructor(long[].class, OnnxJavaType.class, TensorInfo.OnnxTensorType.class);
        tensorInfo.setAccessible(true);
        onnxTensor = OnnxTensor.class.getDeclaredConstructor(long.class, long.class, TensorInfo.class);
        onnxTensor.setAccessible(true);
        MethodHandle createStatus = fn(linker, api, CREATE_STATUS, FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = (MemorySegment) createStatus.invokeExact(1, a.allocateFrom("lorastream"));
            String text = message(st);
            if (!"lorastream".equals(text)) throw new IllegalStateException("OrtApi slot check failed (GetErrorMessage gave '" + text + "'): this ONNX Runtime is not the 1.28 API the slots were counted in");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("OrtApi slot check failed: " + t, t);
        }
    }

    /** The C API of the ONNX Runtime library the Java API loaded. */
    static OrtNative get() {
        OrtNative n = instance;
        if (n != null) return n;
        synchronized (OrtNative.class) {
            if (instance == null) {
                OrtEnvironment.getEnvironment();
                try {
                    Field h = Class.forName("ai.onnxruntime.OnnxRuntime").getDeclaredField("ortApiHandle");
                    h.setAccessible(true);
                    instance = new OrtNative(h.getLong(null));
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new IllegalStateException("cannot reach ONNX Runtime's C API through FFM: " + e, e);
                }
            }
            return instance;
        }
    }

    private static MethodHandle fn(Linker linker, MemorySegment api, int slot, FunctionDescriptor d) {
        return linker.downcallHandle(api.get(ADDRESS, 8L * slot), d);
    }

    private String message(MemorySegment status) throws Throwable {
        MemorySegment msg = (MemorySegment) getErrorMessage.invokeExact(status);
        String text = msg.reinterpret(8192).getString(0);
        releaseStatus.invokeExact(status);
        return text;
    }

    private void check(MemorySegment status, String what) {
        if (status.address() == 0) return;
        try {
            throw new IllegalStateException(what + " failed: " + message(status));
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(what + " failed: " + t, t);
        }
    }

    /** An allocator of the session's memory on {@code device} ("Cuda" or "Cpu"); release it before the session closes. */
    MemorySegment allocator(OrtSession session, String device) {
        long handle;
        try {
            handle = sessionHandle.getLong(session);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        IllegalStateException last = null;
        for (int type : new int[] {ORT_ARENA_ALLOCATOR, ORT_DEVICE_ALLOCATOR}) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ADDRESS);
                check((MemorySegment) createMemoryInfo.invokeExact(a.allocateFrom(device), type, 0, ORT_MEM_TYPE_DEFAULT, out), "CreateMemoryInfo(" + device + ")");
                MemorySegment info = out.get(ADDRESS, 0);
                MemorySegment allocOut = a.allocate(ADDRESS);
                MemorySegment st = (MemorySegment) createAllocator.invokeExact(MemorySegment.ofAddress(handle), info, allocOut);
                releaseMemoryInfo.invokeExact(info);
                check(st, "CreateAllocator(" + device + ")");
                return allocOut.get(ADDRESS, 0);
            } catch (IllegalStateException e) {
                last = e;
            } catch (Throwable t) {
                throw new IllegalStateException("CreateAllocator(" + device + "): " + t, t);
            }
        }
        throw last;
    }

    /** A memory info of {@code device} ("Cuda" or "Cpu"), for tensors over memory the engine already holds; release it with {@link #releaseMemoryInfo}. */
    MemorySegment memoryInfo(String device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((MemorySegment) createMemoryInfo.invokeExact(a.allocateFrom(device), ORT_DEVICE_ALLOCATOR, 0, ORT_MEM_TYPE_DEFAULT, out), "CreateMemoryInfo(" + device + ")");
            return out.get(ADDRESS, 0);
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("CreateMemoryInfo(" + device + "): " + t, t);
        }
    }

    void releaseMemoryInfo(MemorySegment info) {
        try {
            releaseMemoryInfo.invokeExact(info);
        } catch (Throwable t) {
            throw new IllegalStateException("ReleaseMemoryInfo: " + t, t);
        }
    }

    /**
     * A tensor over {@code bytes} of memory the engine owns at {@code data} (no copy; the memory
     * must outlive it), described by {@code info}; {@code allocator} is only recorded in the wrapper.
     */
    DeviceTensor view(MemorySegment info, MemorySegment allocator, MemorySegment data, TensorType type, long[] shape) {
        long bytes = type.bytes();
        for (long d : shape) bytes = Math.multiplyExact(bytes, d);
        if (bytes > data.byteSize()) throw new IllegalArgumentException("a view of " + bytes + " bytes over " + data.byteSize());
        MemorySegment value;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dims = a.allocateFrom(JAVA_LONG, shape);
            MemorySegment out = a.allocate(ADDRESS);
            check((MemorySegment) createTensorWithData.invokeExact(info, data, bytes, dims, (long) shape.length, type.onnxType(), out),
                    "CreateTensorWithDataAsOrtValue");
            value = out.get(ADDRESS, 0);
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("CreateTensorWithDataAsOrtValue: " + t, t);
        }
        return new DeviceTensor(wrap(value, allocator, type, shape), bytes == 0 ? data : data.asSlice(0, bytes), type, shape.clone());
    }

    private OnnxTensor wrap(MemorySegment value, MemorySegment allocator, TensorType type, long[] shape) {
        try {
            TensorInfo info = tensorInfo.newInstance(shape.clone(), type.javaType(), type.tensorType());
            return onnxTensor.newInstance(value.address(), allocator.address(), info);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot wrap an OrtValue as an OnnxTensor: " + e, e);
        }
    }

    void releaseAllocator(MemorySegment allocator) {
        try {
            releaseAllocator.invokeExact(allocator);
        } catch (Throwable t) {
            throw new IllegalStateException("ReleaseAllocator: " + t, t);
        }
    }

    /** A tensor allocated by {@code allocator} (contents undefined), wrapped as an OnnxTensor; and its data pointer. */
    DeviceTensor tensor(MemorySegment allocator, TensorType type, long[] shape) {
        long elements = 1;
        for (long d : shape) elements = Math.multiplyExact(elements, d);
        long bytes = elements * type.bytes();
        MemorySegment value;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dims = a.allocateFrom(JAVA_LONG, shape);
            MemorySegment out = a.allocate(ADDRESS);
            check((MemorySegment) createTensor.invokeExact(allocator, dims, (long) shape.length, type.onnxType(), out), "CreateTensorAsOrtValue");
            value = out.get(ADDRESS, 0);
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("CreateTensorAsOrtValue: " + t, t);
        }
        OnnxTensor tensor = wrap(value, allocator, type, shape);
        MemorySegment data;
        if (bytes == 0) {
            data = MemorySegment.NULL;
        } else {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ADDRESS);
                check((MemorySegment) tensorData.invokeExact(value, out), "GetTensorMutableData");
                data = out.get(ADDRESS, 0).reinterpret(bytes);
            } catch (RuntimeException e) {
                tensor.close();
                throw e;
            } catch (Throwable t) {
                tensor.close();
                throw new IllegalStateException("GetTensorMutableData: " + t, t);
            }
        }
        return new DeviceTensor(tensor, data, type, shape.clone());
    }
}
