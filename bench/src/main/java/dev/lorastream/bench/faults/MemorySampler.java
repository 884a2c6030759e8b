package dev.lorastream.bench.faults;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Memory of each part of the deployment over a soak, read from outside the processes: the resident
 * set of the process and everything it started ({@code VmRSS} of {@code /proc/PID/status}, so the
 * registry's own JVM and ONNX Runtime's native memory count), and the JVM's live heap (used heap
 * right after a full GC that {@code jcmd PID GC.run} asks for). A leak shows as growth after warm-up
 * in either; the JVM growing its heap toward {@code -Xmx} shows in the resident set only. The live heap is read at
 * every {@link #HEAP_EVERY}th reading: each costs the process a full GC and this machine two {@code jcmd} JVMs per part.
 */
final class MemorySampler {
    /** The heap's line comes first in {@code GC.heap_info} whatever the collector ("... total ..., used 123456K ..."). */
    private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");

    /** One reading of one part. */
    record Sample(double atSeconds, long rssKiB, long liveHeapKiB) {}

    static final int HEAP_EVERY = 5;

    private final Map<String, List<Sample>> samples = new LinkedHashMap<>();
    private final Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");

    Map<String, List<Sample>> samples() { return samples; }

    /**
     * Reads every live part once (a part that is not running is skipped for this reading); the live heap only when
     * {@code withHeap} (each costs a full GC and two {@code jcmd} JVMs per part, so not at every reading), else -1.
     */
    void sample(double atSeconds, List<Proc> parts, boolean withHeap) {
        for (Proc p : parts) {
            long pid = p.pid();
            if (pid < 0 || !p.alive()) continue;
            long rss = rssKiB(pid);
            if (rss < 0) continue;
            samples.computeIfAbsent(p.name(), k -> new ArrayList<>()).add(new Sample(atSeconds, rss, withHeap ? liveHeapKiB(pid) : -1));
        }
    }

    /** Resident set of the process and its descendants, KiB; -1 when it is gone. */
    static long rssKiB(long pid) {
        long own = rssOf(pid);
        if (own < 0) return -1;
        long children = ProcessHandle.of(pid).map(h -> h.descendants().mapToLong(d -> Math.max(0, rssOf(d.pid()))).sum()).orElse(0L);
        return own + children;
    }

    private static long rssOf(long pid) {
        try (Stream<String> lines = Files.lines(Path.of("/proc", Long.toString(pid), "status"))) {
            return lines.filter(l -> l.startsWith("VmRSS:")).findFirst()
                    .map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).orElse(-1L);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Used heap after a full GC, KiB, of the JVM with this pid; -1 when jcmd cannot tell. */
    private long liveHeapKiB(long pid) {
        if (jcmd(pid, "GC.run") == null) return -1;
        String info = jcmd(pid, "GC.heap_info");
        if (info == null) return -1;
        Matcher m = HEAP_USED.matcher(info);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private String jcmd(long pid, String command) {
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), command).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) return null;
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * Per part, growth after warm-up: the median of the first three readings after {@code warmUpSeconds}
     * against the median of the last three, for the resident set and the live heap, and the resident
     * set's least-squares slope over that window (MiB per hour).
     */
    Map<String, Map<String, Object>> growth(double warmUpSeconds, long rssBoundMiB, double rssBoundFraction, long heapBoundMiB) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        samples.forEach((part, all) -> {
            List<Sample> after = all.stream().filter(s -> s.atSeconds() >= warmUpSeconds).toList();
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("samples_after_warmup", after.size());
            if (after.size() < 6) {
                g.put("within_bound", false);
                g.put("why", "fewer than 6 readings after warm-up (the part restarted or died?)");
                out.put(part, g);
                return;
            }
            long rssStart = median(after.subList(0, 3).stream().mapToLong(Sample::rssKiB).toArray());
            long rssEnd = median(after.subList(after.size() - 3, after.size()).stream().mapToLong(Sample::rssKiB).toArray());
            List<Sample> heaps = after.stream().filter(x -> x.liveHeapKiB() >= 0).toList();
            long heapStart = heaps.size() < 6 ? -1 : median(heaps.subList(0, 3).stream().mapToLong(Sample::liveHeapKiB).toArray());
            long heapEnd = heaps.size() < 6 ? -1 : median(heaps.subList(heaps.size() - 3, heaps.size()).stream().mapToLong(Sample::liveHeapKiB).toArray());
            long rssGrowth = rssEnd - rssStart;
            long heapGrowth = heapEnd - heapStart;
            long rssAllowedKiB = Math.max(rssBoundMiB * 1024, (long) (rssStart * rssBoundFraction));
            boolean heapKnown = heapStart >= 0 && heapEnd >= 0;
            g.put("rss_start_mib", mib(rssStart));
            g.put("rss_end_mib", mib(rssEnd));
            g.put("rss_growth_mib", mib(rssGrowth));
            g.put("rss_slope_mib_per_h", Math.round(slopeKiBPerSecond(after) * 3600 / 1024 * 10) / 10.0);
            g.put("rss_max_mib", mib(after.stream().mapToLong(Sample::rssKiB).max().orElse(0)));
            g.put("live_heap_start_mib", heapKnown ? mib(heapStart) : null);
            g.put("live_heap_end_mib", heapKnown ? mib(heapEnd) : null);
            g.put("live_heap_growth_mib", heapKnown ? mib(heapGrowth) : null);
            g.put("within_bound", rssGrowth <= rssAllowedKiB && (!heapKnown || heapGrowth <= heapBoundMiB * 1024));
            out.put(part, g);
        });
        return out;
    }

    private static double slopeKiBPerSecond(List<Sample> s) {
        double mx = s.stream().mapToDouble(Sample::atSeconds).average().orElse(0);
        double my = s.stream().mapToDouble(Sample::rssKiB).average().orElse(0);
        double num = 0, den = 0;
        for (Sample x : s) {
            num += (x.atSeconds() - mx) * (x.rssKiB() - my);
            den += (x.atSeconds() - mx) * (x.atSeconds() - mx);
        }
        return den == 0 ? 0 : num / den;
    }

    private static long median(long[] v) {
        long[] c = v.clone();
        java.util.Arrays.sort(c);
        return c[c.length / 2];
    }

    private static double mib(long kib) { return Math.round(kib / 1024.0 * 10) / 10.0; }
}
