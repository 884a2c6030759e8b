package dev.lorastream.bench;

import ai.onnxruntime.OrtEnvironment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Where a benchmark ran. */
public record Machine(int cores, String cpu, String os, String jdk, String onnxRuntime, long maxHeapBytes) {

    public static Machine current() {
        String jdk = System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + " (" + System.getProperty("java.vendor") + ")";
        String os = System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch");
        return new Machine(Runtime.getRuntime().availableProcessors(), cpuModel(), os, jdk, OrtEnvironment.getEnvironment().getVersion(),
                Runtime.getRuntime().maxMemory());
    }

    /** The first "model name" of /proc/cpuinfo; "unknown" elsewhere. */
    private static String cpuModel() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        try {
            if (Files.isReadable(cpuinfo)) {
                for (String line : Files.readAllLines(cpuinfo)) {
                    if (line.toLowerCase(Locale.ROOT).startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return "unknown";
    }

    public String describe() {
        return String.format(Locale.ROOT, "%d cores (%s), %s, JDK %s, ONNX Runtime %s, max heap %d MiB",
                cores, cpu, os, jdk, onnxRuntime, maxHeapBytes >> 20);
    }
}
