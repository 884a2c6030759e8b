package dev.lorastream.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lorastream.bench.ClosedLoop;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.demo.RandomModels;
import dev.lorastream.engine.onnx.OnnxLoraEngine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Item 1 of the engine-speed benchmark: decode tokens/s and ms per step at several batch sizes,
 * every row on the backbone and every row on its own adapter; the token agreement of two engines
 * on the same batch (the fused fp16 graph against the reference fp16 graph); the continuous stream
 * against the static batch; and the peers measured by {@code bench/peers/hf_peers.py} on the same
 * device (transformers eager, transformers with its static cache compiled, PEFT with distinct
 * adapters in one batch, the copy bandwidth and the HBM bound), folded into one table and the
 * issue's ratios.
 */
final class DecodeBench {
    private DecodeBench() {}

    /** The prompts of batch {@code b}: the same for every engine and variant (seeded by the batch size). */
    static List<int[]> prompts(RandomModels.BackboneSpec spec, int b, int promptLen) {
        Random rnd = new Random(42L + b);
        List<int[]> p = new ArrayList<>();
        for (int i = 0; i < b; i++) p.add(GpuBench.prompt(rnd, spec, promptLen));
        return p;
    }

    /**
     * Per batch size: the batch on the backbone, and (when there are enough adapters) every row on
     * its own adapter; {@link GpuBench#decodeCase} for each, the best of {@code repeats}.
     */
    static Map<String, Object> sweep(OnnxLoraEngine engine, String label, RandomModels.BackboneSpec spec, int[] batches, int promptLen, int newTokens,
                                     int repeats, List<String> adapters, List<String> errors) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int b : batches) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("batch", b);
            List<int[]> prompts = prompts(spec, b, promptLen);
            try {
                List<String> none = new ArrayList<>();
                for (int i = 0; i < b; i++) none.add(null);
                engine.generate(GpuBench.tasks(label + "-warm-base-" + b + "-", prompts, none, 3));
                row.put("backbone_only", GpuBench.decodeCase(engine, label + " base b" + b, prompts, none, newTokens, repeats));
                if (adapters.size() >= b) {
                    List<String> distinct = adapters.subList(0, b);
                    engine.generate(GpuBench.tasks(label + "-warm-lora-" + b + "-", prompts, distinct, 3));
                    row.put("distinct_adapters", GpuBench.decodeCase(engine, label + " lora b" + b, prompts, distinct, newTokens, repeats));
                }
            } catch (RuntimeException e) {
                errors.add(label + " batch " + b + ": " + GpuCheck.stack(e));
                row.put("error", String.valueOf(e.getMessage()));
                System.out.println("bench: " + label + " batch " + b + " FAILED: " + e);
            }
            rows.add(row);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("engine", engine.graphChoice().reason());
        m.put("by_batch", rows);
        return m;
    }

    /** The greedy tokens of the batch of {@code b} rows on distinct adapters (or the backbone). */
    static int[][] tokens(OnnxLoraEngine engine, String prefix, RandomModels.BackboneSpec spec, int b, int promptLen, int newTokens, List<String> adapters) {
        List<int[]> prompts = prompts(spec, b, promptLen);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < b; i++) ids.add(adapters.isEmpty() ? null : adapters.get(i % adapters.size()));
        List<Generation> gens = engine.generate(GpuBench.tasks(prefix, prompts, ids, newTokens));
        return gens.stream().map(Generation::tokenIds).toArray(int[][]::new);
    }

    /** How far two engines' greedy tokens agree on the same rows: rows identical, tokens equal position by position, and the first divergence. */
    static Map<String, Object> agreement(int[][] a, int[][] b) {
        int rows = Math.min(a.length, b.length), same = 0;
        long equal = 0, total = 0, prefix = 0;
        List<Integer> firstDiff = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            int n = Math.min(a[r].length, b[r].length), k = 0;
            while (k < n && a[r][k] == b[r][k]) k++;
            prefix += k;
            firstDiff.add(k == n && a[r].length == b[r].length ? -1 : k);
            if (Arrays.equals(a[r], b[r])) same++;
            for (int i = 0; i < n; i++) if (a[r][i] == b[r][i]) equal++;
            total += Math.max(a[r].length, b[r].length);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rows", rows);
        m.put("rows_identical", same);
        m.put("token_agreement", GpuCheck.round4((double) equal / Math.max(1, total)));
        m.put("prefix_agreement", GpuCheck.round4((double) prefix / Math.max(1, total)));
        m.put("first_divergence_by_row", firstDiff);
        return m;
    }

    /**
     * The continuous stream: {@code requests} tasks kept {@code inFlight} at a time through
     * {@link OnnxLoraEngine#submit} (rows join as others finish), {@code rounds} times after a
     * warm-up round; tokens/s over the wall time (prefills, joins and scheduling included).
     */
    static Map<String, Object> stream(OnnxLoraEngine engine, RandomModels.BackboneSpec spec, int inFlight, int requests, int rounds, int promptLen,
                                      int newTokens, List<String> adapters) {
        List<Double> rates = new ArrayList<>();
        List<Map<String, Object>> passes = new ArrayList<>();
        for (int round = -1; round < rounds; round++) {
            Random rnd = new Random(1000L + round);
            List<GenerationTask> tasks = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                String id = adapters.isEmpty() ? null : adapters.get(i % adapters.size());
                tasks.add(new GenerationTask("stream" + round + "-" + i, id, GpuBench.prompt(rnd, spec, promptLen), newTokens, 0f, 1f, 0, 1L, true));
            }
            ClosedLoop.Outcome o = ClosedLoop.run(engine, tasks, inFlight);
            if (round < 0) continue; // warm-up: every adapter placed, every bucket used
            rates.add(GpuCheck.round(o.tokensPerSecond()));
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("tokens", o.tokens());
            p.put("wall_ms", GpuCheck.round(o.wallMs()));
            p.put("forward_passes", o.passes());
            p.put("forward_ms", GpuCheck.round(o.forwardMs()));
            p.put("rows_per_pass", GpuCheck.round((double) o.tokens() / Math.max(1, o.passes())));
            passes.add(p);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("in_flight", inFlight);
        m.put("requests_per_round", requests);
        m.put("adapters", adapters.isEmpty() ? "backbone" : adapters.size() + " distinct, cycled");
        m.put("tokens_per_s_each_round", rates);
        m.put("tokens_per_s", rates.stream().mapToDouble(Double::doubleValue).max().orElse(0));
        m.put("tokens_per_s_median", median(rates));
        m.put("rounds", passes);
        System.out.println("bench: stream " + inFlight + " in flight: " + rates + " tok/s");
        return m;
    }

    static double median(List<Double> v) {
        if (v.isEmpty()) return 0;
        List<Double> s = new ArrayList<>(v);
        s.sort(Double::compare);
        return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }

    /** A case's best decode rate and its median ms per step, or null. */
    private static double[] rate(Object c) {
        if (!(c instanceof Map<?, ?> m) || !(m.get("decode_tokens_per_s") instanceof Number n)) return null;
        @SuppressWarnings("unchecked") List<Double> steps = (List<Double>) m.get("decode_ms_per_step");
        return new double[] {n.doubleValue(), steps == null || steps.isEmpty() ? Double.NaN : steps.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN)};
    }

    /**
     * One row per batch size: ours (backbone only and distinct adapters, and the LoRA-free engine when
     * measured), the peers of {@code peersJson} (when given), the HBM bound; and the ratios the issue
     * names, put into {@code report}.
     */
    @SuppressWarnings("unchecked")
    static void table(Map<String, Object> report, Path peersJson) throws java.io.IOException {
        Map<String, Object> sweep = (Map<String, Object>) report.get("decode_sweep");
        if (sweep == null) return;
        Map<String, Object> nolora = (Map<String, Object>) report.get("decode_sweep_nolora");
        JsonNode peers = peersJson != null && Files.isRegularFile(peersJson) ? GpuCheck.JSON.readTree(peersJson.toFile()) : null;
        if (peers != null) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("file", peersJson.toString());
            p.put("device", peers.path("device").asText());
            p.put("versions", GpuCheck.JSON.convertValue(peers.path("versions"), Map.class));
            p.put("bandwidth_gbps", peers.path("bandwidth_gbps").asDouble());
            p.put("weight_bytes", peers.path("weight_bytes").asLong());
            p.put("results", GpuCheck.JSON.convertValue(peers.path("results"), List.class));
            report.put("peers", p);
        }
        List<Map<String, Object>> table = new ArrayList<>();
        for (Map<String, Object> row : (List<Map<String, Object>>) sweep.get("by_batch")) {
            int b = (int) row.get("batch");
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("batch", b);
            put(t, "ours_backbone", rate(row.get("backbone_only")));
            put(t, "ours_distinct", rate(row.get("distinct_adapters")));
            if (nolora != null) {
                for (Map<String, Object> r : (List<Map<String, Object>>) nolora.get("by_batch")) {
                    if ((int) r.get("batch") == b) put(t, "ours_nolora", rate(r.get("backbone_only")));
                }
            }
            if (peers != null) {
                for (String peer : List.of("hf_eager", "hf_static_compiled", "hf_static_cudagraph", "peft_mixed", "peft_single")) {
                    JsonNode hit = peerResult(peers, peer, b);
                    if (hit != null) put(t, peer, new double[] {hit.path("tok_s").asDouble(), hit.path("ms_per_step").asDouble()});
                }
                for (JsonNode h : peers.path("hbm_bound")) {
                    if (h.path("batch").asInt() == b) put(t, "hbm_bound", new double[] {h.path("tok_s").asDouble(), h.path("ms_per_step").asDouble()});
                }
            }
            table.add(t);
        }
        report.put("decode_table", table);
        Map<String, Object> b32 = byBatch(table, 32), b1 = byBatch(table, 1);
        if (b32 != null) {
            ratio(report, "multi_adapter_ratio", b32, "ours_distinct_tok_s", "ours_backbone_tok_s");
            ratio(report, "multi_adapter_ratio_vs_nolora", b32, "ours_distinct_tok_s", "ours_nolora_tok_s");
            ratio(report, "vs_hf_compiled_b32", b32, "ours_backbone_tok_s", "hf_static_compiled_tok_s");
            ratio(report, "vs_hf_compiled_b32_nolora", b32, "ours_nolora_tok_s", "hf_static_compiled_tok_s");
            ratio(report, "vs_hf_eager_b32", b32, "ours_backbone_tok_s", "hf_eager_tok_s");
            ratio(report, "vs_peft_mixed", b32, "ours_distinct_tok_s", "peft_mixed_tok_s");
            ratio(report, "vs_hbm_bound_b32", b32, "ours_backbone_tok_s", "hbm_bound_tok_s");
            if (report.get("decode_stream") instanceof Map<?, ?> st && st.get("tokens_per_s") instanceof Double best
                    && b32.get("ours_distinct_tok_s") instanceof Double stat && stat > 0) {
                report.put("stream_vs_static_b32", GpuCheck.round4(best / stat));
                report.put("stream_vs_static_b32_median", GpuCheck.round4((double) st.get("tokens_per_s_median") / stat));
                System.out.printf(Locale.ROOT, "bench: stream_vs_static_b32 = %.4f%n", best / stat);
            }
        }
        if (b1 != null) {
            Map<String, Object> ms = new LinkedHashMap<>();
            for (String k : List.of("ours_backbone", "ours_nolora", "hf_static_compiled", "hf_eager", "hbm_bound")) {
                if (b1.get(k + "_ms_per_step") instanceof Double d) ms.put(k, d);
            }
            report.put("ms_per_step_b1", ms);
        }
    }

    private static JsonNode peerResult(JsonNode peers, String peer, int batch) {
        for (JsonNode r : peers.path("results")) {
            if (r.path("peer").asText().equals(peer) && r.path("batch").asInt() == batch && r.path("status").asText().equals("ok")) return r;
        }
        return null;
    }

    private static void put(Map<String, Object> t, String key, double[] rateAndStep) {
        if (rateAndStep == null) return;
        t.put(key + "_tok_s", GpuCheck.round(rateAndStep[0]));
        if (!Double.isNaN(rateAndStep[1])) t.put(key + "_ms_per_step", GpuCheck.round4(rateAndStep[1]));
    }

    private static Map<String, Object> byBatch(List<Map<String, Object>> table, int b) {
        for (Map<String, Object> t : table) if ((int) t.get("batch") == b) return t;
        return null;
    }

    private static void ratio(Map<String, Object> report, String name, Map<String, Object> row, String num, String den) {
        if (row.get(num) instanceof Double n && row.get(den) instanceof Double d && d > 0) {
            report.put(name, GpuCheck.round4(n / d));
            System.out.printf(Locale.ROOT, "bench: %s = %.4f%n", name, n / d);
        }
    }
}
