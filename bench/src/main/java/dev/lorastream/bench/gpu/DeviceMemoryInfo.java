package dev.lorastream.bench.gpu;

import dev.lorastream.engine.runtime.CudaRuntimeLibrary;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** Device memory in use (total − free, {@code cudaMemGetInfo}) for the benchmark's memory figures; -1 off CUDA or when unavailable. */
final class DeviceMemoryInfo {
    private static MethodHandle memGetInfo;

    private DeviceMemoryInfo() {}

    static synchronized long usedBytes(String provider) {
        if (!provider.startsWith("cuda")) return -1;
        try {
            if (memGetInfo == null) {
                SymbolLookup lib = CudaRuntimeLibrary.find().orElse(null);
                if (lib == null) return -1;
                memGetInfo = Linker.nativeLinker().downcallHandle(lib.find("cudaMemGetInfo").orElseThrow(),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            }
            try (Arena a = Arena.ofConfined()) {
                MemorySegment free = a.allocate(JAVA_LONG), total = a.allocate(JAVA_LONG);
                int err = (int) memGetInfo.invokeExact(free, total);
                if (err != 0) return -1;
                return total.get(JAVA_LONG, 0) - free.get(JAVA_LONG, 0);
            }
        } catch (Throwable t) {
            return -1;
        }
    }
}
