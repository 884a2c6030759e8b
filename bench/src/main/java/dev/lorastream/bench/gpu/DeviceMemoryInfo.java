package dev.lorastream.bench.gpu;

import dev.lorastream.engine.runtime.Cuda;

/** Device memory in use (total − free, {@code cudaMemGetInfo}) for the benchmark's memory figures; -1 off CUDA or when unavailable. */
final class DeviceMemoryInfo {
    private DeviceMemoryInfo() {}

    static long usedBytes(String provider) {
        if (!provider.startsWith("cuda")) return -1;
        try {
            long[] info = Cuda.get().memInfo();
            return info[1] - info[0];
        } catch (RuntimeException e) {
            return -1;
        }
    }
}
