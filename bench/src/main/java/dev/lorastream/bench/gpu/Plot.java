package dev.lorastream.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code gpu-check plot --in gpu-bench.json --out plot.png}: tokens/s against the number of
 * adapters (log-log), ours vs one dedicated merged model per adapter, from the benchmark's item 4
 * (and item 2's 1,000-adapter stream when present). Drawn with java.awt, headless.
 */
public final class Plot {
    private Plot() {}

    static int run(Map<String, String> o) throws Exception {
        System.setProperty("java.awt.headless", "true");
        JsonNode r = GpuCheck.JSON.readTree(Path.of(o.getOrDefault("in", "gpu-bench.json")).toFile());
        if (o.getOrDefault("kind", "adapters").equals("batch")) return batch(r, Path.of(o.getOrDefault("out", "gpu-decode.png")),
                o.getOrDefault("title", "Llama-3.2-1B shape, fp16, H200: decode tokens/s vs batch"));
        if (o.getOrDefault("kind", "adapters").equals("switch")) {
            String metric = o.getOrDefault("metric", "ttft_p50_ms");
            Path out = Path.of(o.getOrDefault("out", "gpu-switch.png"));
            switching(r, out, metric, o.getOrDefault("title", "Llama-3.2-1B shape, fp16, H200: " + switchingTitle(metric)));
            System.out.println("plot: " + out);
            return 0;
        }
        List<double[]> ours = new ArrayList<>(), dedicated = new ArrayList<>();
        for (JsonNode row : r.path("dedicated").path("by_adapters")) {
            ours.add(new double[] {row.path("adapters").asDouble(), row.path("ours_tokens_per_s").asDouble()});
            dedicated.add(new double[] {row.path("adapters").asDouble(), row.path("dedicated_tokens_per_s").asDouble()});
        }
        JsonNode many = r.path("many_adapters");
        if (many.has("many_tokens_per_s")) ours.add(new double[] {many.path("many_adapters").asDouble(), many.path("many_tokens_per_s").asDouble()});
        if (ours.isEmpty()) throw new IllegalArgumentException("no item 4 results (dedicated.by_adapters) in the input");
        Path out = Path.of(o.getOrDefault("out", "gpu-adapters.png"));
        write(ours, dedicated, o.getOrDefault("title", "Llama-3.2-1B shape, fp16, H200: sustained tokens/s vs adapters"), out);
        System.out.println("plot: " + out);
        return 0;
    }

    /** A named line of (x, y) points. */
    public record Series(String name, Color color, List<double[]> points) {}

    static void write(List<double[]> ours, List<double[]> dedicated, String title, Path out) throws Exception {
        lines(List.of(new Series("one backbone + LoRA bank (this engine)", new Color(0, 102, 204), ours),
                        new Series("dedicated merged model per adapter, on demand", new Color(204, 51, 0), dedicated)),
                "number of adapters served (log)", "tokens/s, sustained (log)", 1, 2000, title, out);
    }

    /** Log-log lines of the series, x from {@code xmin} to {@code xmax}, legend top left. */
    public static void lines(List<Series> all, String xLabel, String yLabel, double xmin, double xmax, String title, Path out) throws Exception {
        int w = 900, h = 560, left = 90, right = 30, top = 60, bottom = 70;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        double ymin = Double.MAX_VALUE, ymax = 0;
        for (Series s : all) for (double[] p : s.points()) {
            ymin = Math.min(ymin, p[1]);
            ymax = Math.max(ymax, p[1]);
        }
        ymin = Math.pow(10, Math.floor(Math.log10(Math.max(ymin, 1e-3))));
        ymax = Math.pow(10, Math.ceil(Math.log10(Math.max(ymax, ymin * 10))));
        double fxmin = Math.log10(xmin), fxmax = Math.log10(xmax), fymin = Math.log10(ymin), fymax = Math.log10(ymax);
        int pw = w - left - right, ph = h - top - bottom;
        java.util.function.DoubleUnaryOperator X = x -> left + (Math.log10(x) - fxmin) / (fxmax - fxmin) * pw;
        java.util.function.DoubleUnaryOperator Y = y -> top + ph - (Math.log10(y) - fymin) / (fymax - fymin) * ph;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        for (double x = Math.pow(10, Math.floor(fxmin)); x <= xmax; x *= 10) {
            if (x < xmin) continue;
            int px = (int) X.applyAsDouble(x);
            g.setColor(new Color(225, 225, 225));
            g.drawLine(px, top, px, top + ph);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "%,d", (long) x), px - 10, top + ph + 20);
        }
        for (double y = ymin; y <= ymax * 1.0001; y *= 10) {
            int py = (int) Y.applyAsDouble(y);
            g.setColor(new Color(225, 225, 225));
            g.drawLine(left, py, left + pw, py);
            g.setColor(Color.DARK_GRAY);
            String label = y >= 1 ? String.format(Locale.ROOT, "%,d", (long) y) : String.format(Locale.ROOT, "%.2g", y);
            g.drawString(label, left - 10 - g.getFontMetrics().stringWidth(label), py + 5);
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, pw, ph);
        g.drawString(xLabel, left + pw / 2 - 100, h - 25);
        Graphics2D gy = (Graphics2D) g.create();
        gy.rotate(-Math.PI / 2);
        gy.drawString(yLabel, -(top + ph / 2 + 80), 25);
        gy.dispose();
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, left, 30);
        for (Series s : all) series(g, s.points(), s.color(), X, Y);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        int ly = top + 20;
        for (Series s : all) {
            legend(g, left + 20, ly, s.color(), s.name());
            ly += 22;
        }
        g.dispose();
        Files.createDirectories(out.toAbsolutePath().getParent());
        ImageIO.write(img, "png", out.toFile());
    }

    /** Decode tokens/s against batch: ours (backbone, distinct adapters), the peers and the HBM bound, from {@code decode_sweep} and {@code peers}. */
    static int batch(JsonNode r, Path out, String title) throws Exception {
        List<Series> all = new ArrayList<>();
        JsonNode table = r.path("decode_table");
        if (!table.isArray() || table.isEmpty()) throw new IllegalArgumentException("no decode_table in the input");
        String[][] columns = {
                {"ours_backbone_tok_s", "ours, backbone only", "0,102,204"},
                {"ours_distinct_tok_s", "ours, every row its own adapter", "0,160,120"},
                {"hf_static_compiled_tok_s", "transformers, static cache, compiled", "204,51,0"},
                {"hf_eager_tok_s", "transformers, eager", "230,150,0"},
                {"hbm_bound_tok_s", "HBM bound (weights + KV once per step)", "120,120,120"}};
        for (String[] c : columns) {
            List<double[]> pts = new ArrayList<>();
            for (JsonNode row : table) if (row.path(c[0]).isNumber()) pts.add(new double[] {row.path("batch").asDouble(), row.path(c[0]).asDouble()});
            String[] rgb = c[2].split(",");
            if (!pts.isEmpty()) all.add(new Series(c[1], new Color(Integer.parseInt(rgb[0]), Integer.parseInt(rgb[1]), Integer.parseInt(rgb[2])), pts));
        }
        lines(all, "batch (rows decoding together, log)", "decode tokens/s (log)", 1, 200, title, out);
        System.out.println("plot: " + out);
        return 0;
    }

    static String switchingTitle(String metric) {
        return "adapter switching, " + metric.replace("_ms", " (ms)").replace('_', ' ') + " by tier and working set";
    }

    /**
     * The switching item ({@code switching.cells}): one line per tier and working-set size, the
     * metric (e.g. {@code ttft_p50_ms}) against concurrent requests, log-log; the tier sets the
     * hue (device blue, host green, store red), the working set the shade (darker: more adapters).
     */
    static void switching(JsonNode r, Path out, String metric, String title) throws Exception {
        System.setProperty("java.awt.headless", "true");
        JsonNode cells = r.path("switching").path("cells");
        if (!cells.isArray() || cells.isEmpty()) throw new IllegalArgumentException("no switching.cells in the input");
        java.util.TreeSet<Integer> sizes = new java.util.TreeSet<>();
        double xmax = 1;
        for (JsonNode c : cells) {
            sizes.add(c.path("adapters").asInt());
            xmax = Math.max(xmax, c.path("concurrency").asDouble());
        }
        int[][] hues = {{0, 102, 204}, {0, 150, 90}, {204, 51, 0}};
        String[] tiers = {"device", "host", "store"};
        List<Series> all = new ArrayList<>();
        for (int t = 0; t < tiers.length; t++) {
            int shade = 0;
            for (int size : sizes) {
                List<double[]> pts = new ArrayList<>();
                for (JsonNode c : cells) {
                    JsonNode v = c.path("tiers").path(tiers[t]).path(metric);
                    if (c.path("adapters").asInt() == size && v.isNumber() && v.asDouble() > 0) pts.add(new double[] {c.path("concurrency").asDouble(), v.asDouble()});
                }
                double f = sizes.size() == 1 ? 1 : 0.45 + 0.55 * shade++ / (sizes.size() - 1.0); // 0.45 (fewest) .. 1 (most)
                Color color = new Color((int) (255 - (255 - hues[t][0]) * f), (int) (255 - (255 - hues[t][1]) * f), (int) (255 - (255 - hues[t][2]) * f));
                if (!pts.isEmpty()) all.add(new Series(tiers[t] + " tier, " + String.format(Locale.ROOT, "%,d", size) + " adapters", color, pts));
            }
        }
        if (all.isEmpty()) throw new IllegalArgumentException("no " + metric + " values in switching.cells");
        lines(all, "concurrent requests (log)", metric.replace("_ms", ", ms (log)").replace('_', ' '), 1, Math.pow(10, Math.ceil(Math.log10(xmax * 1.5))),
                title, out);
    }

    private static void series(Graphics2D g, List<double[]> s, Color c, java.util.function.DoubleUnaryOperator X, java.util.function.DoubleUnaryOperator Y) {
        List<double[]> pts = new ArrayList<>(s);
        pts.sort((a, b) -> Double.compare(a[0], b[0]));
        g.setColor(c);
        g.setStroke(new BasicStroke(2.5f));
        for (int i = 1; i < pts.size(); i++) {
            g.drawLine((int) X.applyAsDouble(pts.get(i - 1)[0]), (int) Y.applyAsDouble(pts.get(i - 1)[1]),
                    (int) X.applyAsDouble(pts.get(i)[0]), (int) Y.applyAsDouble(pts.get(i)[1]));
        }
        for (double[] p : pts) {
            int px = (int) X.applyAsDouble(p[0]), py = (int) Y.applyAsDouble(p[1]);
            g.fillOval(px - 5, py - 5, 10, 10);
            g.drawString(p[1] >= 10 ? String.format(Locale.ROOT, "%,.0f", p[1]) : String.format(Locale.ROOT, "%.2g", p[1]), px + 8, py - 8);
        }
    }

    private static void legend(Graphics2D g, int x, int y, Color c, String text) {
        g.setColor(c);
        g.setStroke(new BasicStroke(2.5f));
        g.drawLine(x, y - 4, x + 24, y - 4);
        g.setColor(Color.BLACK);
        g.drawString(text, x + 32, y);
    }
}
