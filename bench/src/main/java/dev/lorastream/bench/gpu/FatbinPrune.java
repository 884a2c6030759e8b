package dev.lorastream.bench.gpu;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Shrinks a CUDA shared library for the bundle: in its {@code .nv_fatbin} section, zeroes the
 * payload of every cubin built for another GPU architecture than the ones kept (the CUDA driver
 * loads only the cubin matching the device, or JIT-compiles PTX, which is never touched). Sizes,
 * offsets and headers stay as they were, so the library links and loads as before; the zeroed
 * bytes cost nothing once compressed. ONNX Runtime's CUDA 13 provider (cubins for sm_75, 80, 90,
 * 100, 120) compresses from 136 MB to about 38 MB when only sm_90 (H100/H200) is kept.
 *
 * <pre>java -cp bench.jar dev.lorastream.bench.gpu.FatbinPrune FILE.so 90[,100...]</pre>
 * Prints what it kept and zeroed by architecture. Exit code 1 when the file has no fatbin section
 * or no cubin of a kept architecture (the library would not run on that GPU).
 */
public final class FatbinPrune {
    static final int FATBIN_MAGIC = 0xBA55ED50;
    static final int KIND_PTX = 1, KIND_CUBIN = 2;

    private FatbinPrune() {}

    /** Bytes of cubin payload by architecture, kept and zeroed. */
    record Result(Map<Integer, Long> kept, Map<Integer, Long> zeroed, int containers) {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: FatbinPrune FILE.so ARCH[,ARCH...]   (e.g. 90)");
            System.exit(2);
        }
        Set<Integer> keep = Arrays.stream(args[1].split(",")).map(String::trim).map(Integer::parseInt).collect(Collectors.toSet());
        Result r = prune(Path.of(args[0]), keep);
        System.out.println("fatbin-prune " + args[0] + ": " + r.containers() + " fatbins; kept cubin bytes by sm " + r.kept() + ", zeroed " + r.zeroed());
        if (r.containers() == 0 || keep.stream().noneMatch(r.kept()::containsKey)) {
            System.err.println("fatbin-prune: no cubin for sm " + keep + " in " + args[0]);
            System.exit(1);
        }
    }

    static Result prune(Path file, Set<Integer> keep) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long[] section = fatbinSection(ch);
            if (section == null) return new Result(Map.of(), Map.of(), 0);
            ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(section[1])).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining()) if (ch.read(b, section[0] + b.position()) < 0) throw new IOException("short read");
            Result r = prune(b, keep);
            b.clear();
            while (b.hasRemaining()) ch.write(b, section[0] + b.position());
            return r;
        }
    }

    /** Walks the fatbin containers of a section's bytes, zeroing cubin payloads of other architectures in place. */
    static Result prune(ByteBuffer b, Set<Integer> keep) {
        Map<Integer, Long> kept = new TreeMap<>(), zeroed = new TreeMap<>();
        int containers = 0;
        int p = 0;
        while (p + 16 <= b.limit()) {
            if (b.getInt(p) != FATBIN_MAGIC) {
                p += 8;
                continue;
            }
            containers++;
            int headerSize = b.getShort(p + 6) & 0xffff;
            long fatSize = b.getLong(p + 8);
            long q = p + headerSize, end = q + fatSize;
            if (end > b.limit()) throw new IllegalStateException("fatbin at " + p + " runs past the section");
            while (q + 32 <= end) {
                int kind = b.getShort((int) q) & 0xffff;
                long entryHeader = b.getInt((int) q + 4) & 0xffffffffL;
                long payload = b.getLong((int) q + 8);
                int arch = b.getInt((int) q + 28);
                long from = q + entryHeader, to = from + payload;
                if (entryHeader < 32 || to > end) throw new IllegalStateException("malformed fatbin entry at " + q);
                if (kind == KIND_CUBIN && !keep.contains(arch)) {
                    for (long i = from; i < to; i++) b.put((int) i, (byte) 0);
                    zeroed.merge(arch, payload, Long::sum);
                } else if (kind == KIND_CUBIN) {
                    kept.merge(arch, payload, Long::sum);
                }
                q = to;
            }
            p = (int) end;
        }
        return new Result(kept, zeroed, containers);
    }

    /** Offset and size of the ELF64 section named .nv_fatbin, or null. */
    static long[] fatbinSection(FileChannel ch) throws IOException {
        ByteBuffer h = read(ch, 0, 64);
        if (h.getInt(0) != 0x464c457f || h.get(4) != 2) throw new IOException("not an ELF64 file");
        long shoff = h.getLong(0x28);
        int shentsize = h.getShort(0x3a) & 0xffff, shnum = h.getShort(0x3c) & 0xffff, shstrndx = h.getShort(0x3e) & 0xffff;
        ByteBuffer sh = read(ch, shoff, shentsize * shnum);
        long strOff = sh.getLong(shstrndx * shentsize + 0x18), strSize = sh.getLong(shstrndx * shentsize + 0x20);
        ByteBuffer names = read(ch, strOff, Math.toIntExact(strSize));
        for (int i = 0; i < shnum; i++) {
            int o = i * shentsize;
            int name = sh.getInt(o);
            StringBuilder s = new StringBuilder();
            for (int k = name; k < names.limit() && names.get(k) != 0; k++) s.append((char) names.get(k));
            if (s.toString().equals(".nv_fatbin")) return new long[] {sh.getLong(o + 0x18), sh.getLong(o + 0x20)};
        }
        return null;
    }

    private static ByteBuffer read(FileChannel ch, long at, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) if (ch.read(b, at + b.position()) < 0) throw new IOException("short read");
        return b;
    }
}
