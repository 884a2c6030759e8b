package dev.lorastream.bench.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Copies jars into the GPU bundle, lean: native libraries for other platforms than linux-x86_64
 * are left out (ONNX Runtime's own natives entirely: the bundle ships the CUDA build beside the
 * jars), and every entry is stored uncompressed, so that the bundle's xz sees the raw classes
 * (a deflated jar hardly compresses further; stored, xz makes it a third smaller).
 * <p>
 * usage: {@code BundleJars OUT_DIR JAR...}; prints one line per jar: name, bytes in, bytes out, natives dropped.
 */
public final class BundleJars {
    private static final Pattern NATIVE = Pattern.compile(".*\\.(so(\\.[0-9.]+)?|dll|dylib|jnilib|pdb|lib|a)$");

    private BundleJars() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: BundleJars OUT_DIR JAR...");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        Files.createDirectories(out);
        for (int i = 1; i < args.length; i++) {
            Path jar = Path.of(args[i]);
            int[] dropped = {0};
            Path target = out.resolve(jar.getFileName());
            copy(jar, target, dropped);
            System.out.printf(Locale.ROOT, "%-48s %10d -> %10d bytes, %d native files dropped%n", jar.getFileName(), Files.size(jar),
                    Files.size(target), dropped[0]);
        }
    }

    /** Whether an entry stays in the bundle's copy of the jar. */
    static boolean keep(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.startsWith("ai/onnxruntime/native/")) return false; // the bundle's native/ holds ONNX Runtime's CUDA build
        if (n.contains(".dsym/")) return false;
        if (!NATIVE.matcher(n).matches()) return true;
        return n.contains("linux") && (n.contains("x86_64") || n.contains("x86-64") || n.contains("amd64") || n.contains("linux-x64/"));
    }

    static void copy(Path in, Path out, int[] dropped) throws IOException {
        try (ZipFile zip = new ZipFile(in.toFile()); OutputStream os = Files.newOutputStream(out); ZipOutputStream zos = new ZipOutputStream(os)) {
            zos.setMethod(ZipOutputStream.STORED);
            var entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                if (!keep(e.getName())) {
                    if (!e.isDirectory()) dropped[0]++;
                    continue;
                }
                byte[] data;
                try (InputStream is = zip.getInputStream(e)) {
                    data = is.readAllBytes();
                }
                ZipEntry copy = new ZipEntry(e.getName());
                copy.setMethod(ZipEntry.STORED);
                copy.setSize(data.length);
                copy.setCompressedSize(data.length);
                CRC32 crc = new CRC32();
                crc.update(data);
                copy.setCrc(crc.getValue());
                copy.setTime(e.getTime());
                zos.putNextEntry(copy);
                zos.write(data);
                zos.closeEntry();
            }
        }
    }
}
