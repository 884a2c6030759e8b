package dev.lorastream.bench.gpu;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.demo.DemoModels;
import dev.lorastream.engine.demo.RandomModels;
import dev.lorastream.engine.model.SafetensorsWriter;
import dev.lorastream.engine.onnx.OnnxLoraEngine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The GPU bundle's check program.
 * <ul>
 *   <li>{@code providers}: ONNX Runtime's version and the execution providers this build offers;</li>
 *   <li>{@code check}: opens the engine on each provider in turn (default cuda, then cpu; {@code cpu@N}
 *       is the CPU with N intra-op threads) in this
 *       one process, generates greedily on the demo backbone alone, with each demo adapter and in
 *       batches mixing them, and compares the tokens (and the logits up to each row's first
 *       divergence) of the first provider with the last; optionally the same on a mid-size random
 *       backbone ({@code --bench-mid}) for timings. Writes {@code gpu-check.json} to {@code --out};</li>
 *   <li>{@code placement}: creates a session of a decoder graph on a provider with ONNX Runtime's
 *       verbose log on, which names the provider of every node (read it from stderr);</li>
 *   <li>{@code generate}: one greedy generation on a chosen provider (the GPU twin of
 *       {@code ./pipeline generate});</li>
 *   <li>{@code fold}: the decode table and ratios of a benchmark's JSON with the PyTorch peers' JSON;</li>
 *   <li>{@code bench}: the issue's benchmark on a random Llama-3.2-1B-shaped backbone (see {@link GpuBench}).</li>
 * </ul>
 * A provider label is {@code cuda} or {@code cpu}, optionally {@code cpu@N} (N intra-op threads),
 * with modifiers after {@code +}: {@code +fp16} (half graph), {@code +tf32} (TF32 matmuls on CUDA),
 * {@code +host} (bank and KV cache in Java buffers fed to every run), {@code +dev} (device tensors
 * on: on the CPU, the C API path with the CPU allocator). Plain {@code cuda} is fp32, TF32 off, device tensors on.
 * Exit codes: 0 done (for check: every provider ran and, with {@code --require-match}, the tokens
 * agree); 1 a provider failed or tokens differ; 2 bad command line.
 */
public final class GpuCheck {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final List<String> PROMPTS = List.of(
            "The patient reports itching on the left arm.",
            "Chest pain after exercise: what should I check first?",
            "Plan a high-protein breakfast.",
            "Hello");

    private GpuCheck() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(args));
    }

    static int run(String[] args) throws Exception {
        String cmd = args.length == 0 ? "check" : args[0];
        Map<String, String> o;
        try {
            o = options(args.length == 0 ? new String[0] : Arrays.copyOfRange(args, 1, args.length));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        return switch (cmd) {
            case "providers" -> { System.out.println(JSON.writeValueAsString(runtimeFacts())); yield 0; }
            case "check" -> check(o);
            case "placement" -> placement(o);
            case "generate" -> generate(o);
            case "bench" -> GpuBench.run(o);
            case "plot" -> Plot.run(o);
            case "fold" -> fold(o);
            default -> {
                System.err.println("usage: gpu-check [providers | check [--out DIR] [--work DIR] [--providers cuda,cpu] [--max-new-tokens N]"
                        + " [--repeats N] [--bench-mid] [--require-match] | placement --graph FILE [--provider cuda]"
                        + " | generate --model DIR [--adapters DIR --adapter ID] --prompt TEXT --max-new-tokens N [--provider cuda]"
                        + " | bench [--out DIR] [--work DIR] [--provider cuda] [--precision fp16] [--shape llama-3.2-1b|tiny] [--batch 32]"
                        + " [--prompt 128] [--new-tokens 128] [--rank 16] [--repeats 2] [--cold 8] [--profile-steps 8] [--items 1,2,3,4]"
                        + " [--many 1000] [--few 5] [--slots 48] [--host-slots 256] [--stream-requests 160] [--stream-rounds 1]"
                        + " [--dedicated-counts 3,10,100] [--dedicated-requests 64] [--dedicated-cap-ms 40000]"
                        + " [--batches 1,8,32,64,128] [--kv-capacity N] [--graph auto|fused|reference] [--cuda-graphs on|off] [--peers hf_peers.json]"
                        + " [--decode-stream-requests N] [--decode-stream-rounds N] [--switch-concurrency 1,8,32,128,256] [--switch-adapters 5,100,1000]"
                        + " [--switch-new-tokens 32] [--switch-prompt N] [--switch-mix 2,1,1] [--switch-min-requests 64] [--switch-rounds 3]"
                        + " [--switch-max-batch 128] [--switch-slots 256] [--switch-host-slots N] [--switch-eviction lru]]"
                        + " | fold --in gpu-bench.json --peers hf_peers.json --out FILE.json"
                        + " | plot [--kind adapters|batch|switch] [--metric ttft_p50_ms] --in gpu-bench.json --out FILE.png]");
                yield 2;
            }
        };
    }

    static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + a + "'");
            String key = a.substring(2);
            if (i + 1 < args.length && !args[i + 1].startsWith("--")) o.put(key, args[++i]);
            else o.put(key, "true");
        }
        return o;
    }

    /** ONNX Runtime's version, the providers it offers, where its native libraries came from, the JVM. */
    /** {@code fold}: the decode table and ratios of a benchmark's JSON recomputed with a peers file (measured in another command of the same lease). */
    @SuppressWarnings("unchecked")
    static int fold(Map<String, String> o) throws IOException {
        if (!o.containsKey("in") || !o.containsKey("peers")) {
            System.err.println("fold: --in gpu-bench.json and --peers hf_peers.json are required");
            return 2;
        }
        Map<String, Object> r = JSON.readValue(Path.of(o.get("in")).toFile(), Map.class);
        DecodeBench.table(r, Path.of(o.get("peers")));
        Path out = Path.of(o.getOrDefault("out", o.get("in")));
        Files.write(out, JSON.writeValueAsBytes(r));
        System.out.println("fold: wrote " + out);
        return 0;
    }

    static Map<String, Object> runtimeFacts() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("java", System.getProperty("java.runtime.version"));
        m.put("java_home", System.getProperty("java.home"));
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("max_heap_mib", Runtime.getRuntime().maxMemory() >> 20);
        m.put("onnxruntime_native_path", System.getProperty("onnxruntime.native.path"));
        m.put("ld_library_path", System.getenv("LD_LIBRARY_PATH"));
        try {
            m.put("onnxruntime_version", OrtEnvironment.getEnvironment().getVersion());
            m.put("providers_available", OrtEnvironment.getAvailableProviders().stream().map(Enum::name).toList());
        } catch (Throwable t) {
            m.put("onnxruntime_error", String.valueOf(t));
        }
        return m;
    }

    // ---------------------------------------------------------------- check

    /** One row of a case: a text prompt (tokenized by the engine) or token ids. */
    record Row(String id, String adapterId, String text, int[] ids, int maxNew) {}

    /** One generate call. */
    record Case(String name, List<Row> tasks, boolean compareLogits) {}

    /** What one provider produced for one case. */
    static final class Outcome {
        int[][] tokens;
        Map<Long, float[]> logits = new ConcurrentHashMap<>(); // (row << 32 | step) -> logits
        List<Double> wallMs = new ArrayList<>();
        long prefillMs, decodeMs;
        boolean deterministic = true;
        String error;
    }

    static int check(Map<String, String> o) throws IOException {
        Path out = Path.of(o.getOrDefault("out", "gpu-check-out"));
        Path work = Path.of(o.getOrDefault("work", Path.of(System.getProperty("java.io.tmpdir"), "lorastream-gpu-check").toString()));
        List<String> providers = List.of(o.getOrDefault("providers", "cuda,cpu").split(","));
        int maxNew = Integer.parseInt(o.getOrDefault("max-new-tokens", "48"));
        int repeats = Integer.parseInt(o.getOrDefault("repeats", "3"));
        Files.createDirectories(out);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("runtime", runtimeFacts());
        System.out.println("runtime: " + JSON.writeValueAsString(report.get("runtime")));
        List<String> errors = new ArrayList<>();
        report.put("errors", errors);

        DemoModels.Paths demo = DemoModels.write(work.resolve("demo"));
        List<String> adapters = new ArrayList<>();
        adapters.add(null);
        adapters.addAll(DemoModels.ADAPTERS);
        boolean ok = runSuite("demo", demo.backbone(), demo.adapters(), providers, demoCases(adapters, maxNew),
                repeats, false, report, errors, out);
        report.put("cuda_vs_cpu_token_match", ((Map<?, ?>) report.get("demo")).get("token_match"));
        report.put("cuda_vs_cpu_max_abs_logit_diff", ((Map<?, ?>) report.get("demo")).get("max_abs_logit_diff"));
        write(out, report);

        if (o.containsKey("bench-mid")) {
            try {
                MidModel mid = MidModel.write(work.resolve("mid"));
                int prompt = Integer.parseInt(o.getOrDefault("bench-prompt", "64"));
                int newTokens = Integer.parseInt(o.getOrDefault("bench-new-tokens", "64"));
                int batch = Integer.parseInt(o.getOrDefault("bench-batch", "16"));
                List<Case> cases = mid.cases(prompt, newTokens, batch);
                runSuite("bench_mid", mid.backbone, mid.adapters, providers, cases, 1, true, report, errors, out);
                ((Map<String, Object>) report.get("bench_mid")).put("shape", mid.shape());
            } catch (RuntimeException | OutOfMemoryError e) {
                errors.add("bench_mid: " + stack(e));
                System.out.println("bench_mid failed: " + e);
            }
            write(out, report);
        }
        System.out.println("cuda_vs_cpu_token_match = " + report.get("cuda_vs_cpu_token_match")
                + ", max |logit diff| before divergence = " + report.get("cuda_vs_cpu_max_abs_logit_diff")
                + (errors.isEmpty() ? "" : ", errors: " + errors.size()));
        boolean match = Double.valueOf(1.0).equals(report.get("cuda_vs_cpu_token_match"));
        if (!ok) return 1;
        return o.containsKey("require-match") && !match ? 1 : 0;
    }

    static List<Case> demoCases(List<String> adapters, int maxNew) {
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < adapters.size(); i++) {
            String a = adapters.get(i);
            cases.add(new Case("single_" + (a == null ? "backbone" : a), List.of(task("s" + i, a, null, PROMPTS.get(i % PROMPTS.size()), maxNew)), true));
        }
        List<Row> mixed = new ArrayList<>();
        for (int k = 0; k < 8; k++) mixed.add(task("m" + k, adapters.get(k % adapters.size()), null, PROMPTS.get((k / 2 + k) % PROMPTS.size()), maxNew));
        cases.add(new Case("mixed_b8", mixed, true));
        List<Row> big = new ArrayList<>();
        for (int k = 0; k < 32; k++) big.add(task("t" + k, adapters.get(k % adapters.size()), null, PROMPTS.get((k / 4 + k) % PROMPTS.size()), 64));
        cases.add(new Case("mixed_b32_64tok", big, true));
        return cases;
    }

    static Row task(String id, String adapter, int[] ids, String prompt, int maxNew) {
        return new Row(id, adapter, prompt, ids, maxNew);
    }

    /**
     * Runs every case on every provider (each engine opened, used and closed in turn), compares
     * the first provider with the last, and puts the summary under {@code report.<name>}.
     *
     * @return whether every provider opened and ran every case
     */
    static boolean runSuite(String name, Path backbone, Path adapterDir, List<String> providers, List<Case> cases, int repeats,
                            boolean benchThreads, Map<String, Object> report, List<String> errors, Path out) throws IOException {
        Map<String, Object> suite = new LinkedHashMap<>();
        report.put(name, suite);
        Map<String, Object> engines = new LinkedHashMap<>();
        suite.put("engines", engines);
        Map<String, Map<String, Outcome>> outcomes = new LinkedHashMap<>(); // case -> provider -> outcome
        boolean ok = true;
        for (String provider : providers) {
            Map<String, Object> e = new LinkedHashMap<>();
            engines.put(provider, e);
            EngineConfig config = engineConfig(provider, backbone, adapterDir, benchThreads);
            e.put("intra_op_threads", config.effectiveIntraOpThreads());
            e.put("precision", config.precision());
            e.put("tf32", config.tf32());
            long t0 = System.nanoTime();
            OnnxLoraEngine engine;
            try {
                engine = OnnxLoraEngine.open(config);
            } catch (RuntimeException ex) {
                ok = false;
                e.put("error", String.valueOf(ex.getMessage()));
                errors.add(name + "/" + provider + " open: " + stack(ex));
                System.out.println(name + ": engine on " + provider + " FAILED to open: " + ex.getMessage());
                continue;
            }
            try (engine) {
                e.put("open_ms", ms(System.nanoTime() - t0));
                e.put("execution_provider", engine.model().executionProvider());
                e.put("graph", engine.graphChoice().reason());
                e.put("device_tensors", engine.status().bank().deviceTensors());
                System.out.println(name + ": engine on " + provider + " open in " + e.get("open_ms") + " ms, runs on "
                        + engine.model().executionProvider() + ", adapters " + engine.adapterIds() + "; " + engine.graphChoice().reason());
                long w0 = System.nanoTime();
                try {
                    Case first = cases.getFirst();
                    engine.generate(List.of(resolve(engine, first.tasks().getFirst(), 2)));
                    e.put("warmup_ms", ms(System.nanoTime() - w0));
                } catch (RuntimeException ex) {
                    e.put("warmup_error", String.valueOf(ex.getMessage()));
                }
                for (Case c : cases) {
                    Outcome r = new Outcome();
                    outcomes.computeIfAbsent(c.name(), k -> new LinkedHashMap<>()).put(provider, r);
                    List<GenerationTask> tasks = c.tasks().stream().map(t -> resolve(engine, t, t.maxNew())).toList();
                    try {
                        for (int rep = 0; rep < repeats; rep++) {
                            boolean capture = rep == 0 && c.compareLogits();
                            long s = System.nanoTime();
                            List<Generation> gens = engine.generate(tasks, capture
                                    ? (row, step, logits) -> r.logits.put(((long) row << 32) | step, logits.clone())
                                    : (row, step, logits) -> {});
                            r.wallMs.add(ms(System.nanoTime() - s));
                            int[][] tokens = gens.stream().map(Generation::tokenIds).toArray(int[][]::new);
                            if (rep == 0) {
                                r.tokens = tokens;
                                r.prefillMs = gens.stream().mapToLong(Generation::prefillMs).max().orElse(0);
                                r.decodeMs = gens.stream().mapToLong(Generation::decodeMs).max().orElse(0);
                            } else if (!Arrays.deepEquals(tokens, r.tokens)) {
                                r.deterministic = false;
                            }
                        }
                        System.out.printf(Locale.ROOT, "%s/%s %-18s rows %2d  wall %s ms  (%d new tokens per row)%n", name, provider, c.name(),
                                tasks.size(), r.wallMs, c.tasks().getFirst().maxNew());
                    } catch (RuntimeException ex) {
                        ok = false;
                        r.error = String.valueOf(ex.getMessage());
                        errors.add(name + "/" + provider + "/" + c.name() + ": " + stack(ex));
                        System.out.println(name + "/" + provider + " " + c.name() + " FAILED: " + ex.getMessage());
                    }
                }
            } catch (RuntimeException ex) {
                ok = false;
                errors.add(name + "/" + provider + " close: " + stack(ex));
            }
        }
        summarize(suite, cases, outcomes, providers);
        return ok;
    }

    /**
     * The engine settings a provider label names: {@code cpu@4} is the cpu provider with 4 intra-op
     * threads; {@code +fp16}, {@code +tf32}, {@code +host}, {@code +dev} modify it (see the class comment).
     */
    static EngineConfig engineConfig(String label, Path backbone, Path adapterDir, boolean benchThreads) {
        String[] parts = label.split("\\+");
        String base = parts[0];
        String ep = base.contains("@") ? base.substring(0, base.indexOf('@')) : base;
        EngineConfig config = new EngineConfig(backbone, adapterDir, ep, 32);
        if (base.contains("@")) config = config.withIntraOpThreads(Integer.parseInt(base.substring(base.indexOf('@') + 1)));
        else if (benchThreads && ep.equals("cpu")) config = config.withIntraOpThreads(Runtime.getRuntime().availableProcessors());
        for (int i = 1; i < parts.length; i++) {
            config = switch (parts[i]) {
                case "fp16" -> config.withPrecision("fp16");
                case "tf32" -> config.withTf32(true);
                case "host" -> config.withDeviceTensors("off");
                case "dev" -> config.withDeviceTensors("on");
                default -> throw new IllegalArgumentException("provider label '" + label + "': unknown modifier '" + parts[i] + "' (fp16, tf32, host, dev)");
            };
        }
        return config;
    }

    /** The row as a greedy task that ignores EOS (every row makes exactly maxNew tokens); text prompts get the engine's tokens. */
    static GenerationTask resolve(OnnxLoraEngine engine, Row r, int maxNew) {
        int[] ids = r.ids() != null ? r.ids() : engine.encode(r.text());
        return new GenerationTask(r.id(), r.adapterId(), ids, maxNew, 0f, 1f, 0, 1L, true);
    }

    static void summarize(Map<String, Object> suite, List<Case> cases, Map<String, Map<String, Outcome>> outcomes, List<String> providers) {
        String a = providers.getFirst(), b = providers.getLast();
        long same = 0, total = 0;
        double maxDiff = 0;
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Case c : cases) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("case", c.name());
            m.put("rows", c.tasks().size());
            m.put("adapters", c.tasks().stream().map(t -> t.adapterId() == null ? "(backbone)" : t.adapterId()).toList());
            m.put("new_tokens_per_row", c.tasks().getFirst().maxNew());
            Map<String, Outcome> byProvider = outcomes.getOrDefault(c.name(), Map.of());
            for (String p : providers) {
                Outcome r = byProvider.get(p);
                if (r == null) continue;
                Map<String, Object> pm = new LinkedHashMap<>();
                if (r.error != null) pm.put("error", r.error);
                if (!r.wallMs.isEmpty()) {
                    List<Double> sorted = r.wallMs.stream().sorted().toList();
                    double median = sorted.get(sorted.size() / 2);
                    pm.put("wall_ms", r.wallMs);
                    pm.put("wall_ms_median", median);
                    long newTokens = r.tokens == null ? 0 : Arrays.stream(r.tokens).mapToLong(t -> t.length).sum();
                    pm.put("new_tokens", newTokens);
                    pm.put("tokens_per_s", round(newTokens / (median / 1000.0)));
                    pm.put("prefill_ms", r.prefillMs);
                    pm.put("decode_ms", r.decodeMs);
                    int steps = c.tasks().getFirst().maxNew() - 1; // the first new token comes from the prefill
                    if (steps > 0 && r.decodeMs > 0) {
                        pm.put("decode_ms_per_step", round((double) r.decodeMs / steps));
                        pm.put("decode_tokens_per_s", round((double) c.tasks().size() * steps / (r.decodeMs / 1000.0)));
                    }
                    pm.put("deterministic_across_repeats", r.deterministic);
                }
                if (r.tokens != null && r.tokens.length <= 8) pm.put("tokens", r.tokens);
                m.put(p, pm);
            }
            Outcome ra = byProvider.get(a), rb = byProvider.get(b);
            if (!a.equals(b) && ra != null && rb != null && ra.tokens != null && rb.tokens != null) {
                long caseSame = 0, caseTotal = 0;
                double caseDiff = 0;
                List<Integer> firstDivergence = new ArrayList<>();
                List<Double> marginAtDivergence = new ArrayList<>();
                for (int row = 0; row < ra.tokens.length; row++) {
                    int[] x = ra.tokens[row], y = rb.tokens[row];
                    int n = Math.max(x.length, y.length);
                    int div = -1;
                    for (int i = 0; i < n; i++) {
                        boolean eq = i < x.length && i < y.length && x[i] == y[i];
                        if (eq) caseSame++;
                        else if (div < 0) div = i;
                    }
                    caseTotal += n;
                    firstDivergence.add(div);
                    int upTo = div < 0 ? n - 1 : div; // logits at step s follow identical inputs while s <= first divergence
                    for (int s = 0; s <= upTo; s++) {
                        float[] la = ra.logits.get(((long) row << 32) | s), lb = rb.logits.get(((long) row << 32) | s);
                        if (la == null || lb == null) continue;
                        for (int v = 0; v < la.length; v++) caseDiff = Math.max(caseDiff, Math.abs(la[v] - lb[v]));
                    }
                    if (div >= 0) {
                        float[] lb = rb.logits.get(((long) row << 32) | div);
                        marginAtDivergence.add(lb == null ? Double.NaN : top2Margin(lb));
                    }
                }
                same += caseSame;
                total += caseTotal;
                maxDiff = Math.max(maxDiff, caseDiff);
                m.put("token_match", caseTotal == 0 ? null : round4((double) caseSame / caseTotal));
                m.put("first_divergence_per_row", firstDivergence);
                if (!marginAtDivergence.isEmpty()) m.put(b + "_top2_margin_at_divergence", marginAtDivergence);
                if (!ra.logits.isEmpty()) m.put("max_abs_logit_diff", caseDiff);
                if (ra.wallMs.size() > 0 && rb.wallMs.size() > 0) {
                    double ma = ra.wallMs.stream().sorted().toList().get(ra.wallMs.size() / 2);
                    double mb = rb.wallMs.stream().sorted().toList().get(rb.wallMs.size() / 2);
                    m.put("speedup_" + a + "_over_" + b, round(mb / ma));
                }
            }
            rows.add(m);
        }
        suite.put("compared", a + " vs " + b);
        suite.put("token_match", total == 0 ? null : round4((double) same / total));
        suite.put("tokens_compared", total);
        suite.put("max_abs_logit_diff", maxDiff);
        suite.put("cases", rows);
    }

    static double top2Margin(float[] l) {
        float best = Float.NEGATIVE_INFINITY, second = Float.NEGATIVE_INFINITY;
        for (float v : l) {
            if (v > best) { second = best; best = v; } else if (v > second) second = v;
        }
        return best - second;
    }

    // ---------------------------------------------------------------- a mid-size random backbone for timings

    /** A random Llama of 1024 hidden, 8 layers, vocab 32000 (182M parameters, fp32) with four rank-16 q,k,v,o adapters. */
    record MidModel(Path backbone, Path adapters, RandomModels.BackboneSpec spec) {
        static final RandomModels.BackboneSpec SPEC = new RandomModels.BackboneSpec("llama", "bench-mid", 1024, 8, 16, 4, 4096,
                32000, 2048, 500000.0, 1e-5, false, false, 1, 2);
        static final List<String> ADAPTERS = List.of("mid-a", "mid-b", "mid-c", "mid-d");

        static MidModel write(Path dir) throws IOException {
            Path backbone = dir.resolve("backbone"), adapters = dir.resolve("adapters");
            long t0 = System.nanoTime();
            RandomModels.writeIfChanged(backbone.resolve("config.json"), JSON.writeValueAsBytes(SPEC.configJson()));
            if (!Files.exists(backbone.resolve("model.safetensors"))) {
                RandomModels.writeIfChanged(backbone.resolve("model.safetensors"),
                        SafetensorsWriter.toBytes(RandomModels.backbone(SPEC, 7L), Map.of("format", "pt")));
            }
            for (int i = 0; i < ADAPTERS.size(); i++) {
                RandomModels.LoraSpec lora = new RandomModels.LoraSpec(List.of("q_proj", "k_proj", "v_proj", "o_proj"), 16, 32, false, "bench-mid", 0.02);
                Path a = adapters.resolve(ADAPTERS.get(i));
                RandomModels.writeIfChanged(a.resolve("adapter_config.json"), JSON.writeValueAsBytes(lora.configJson()));
                RandomModels.writeIfChanged(a.resolve("adapter_model.safetensors"),
                        SafetensorsWriter.toBytes(RandomModels.lora(SPEC, lora, 100 + i), Map.of("format", "pt")));
            }
            System.out.println("bench_mid: model written in " + ms(System.nanoTime() - t0) + " ms to " + dir);
            return new MidModel(backbone, adapters, SPEC);
        }

        List<Case> cases(int promptLen, int newTokens, int batch) {
            Random rnd = new Random(42);
            List<Case> cases = new ArrayList<>();
            cases.add(new Case("b1_backbone", List.of(ids("b1", null, rnd, promptLen, newTokens)), true));
            List<String> mix = new ArrayList<>();
            mix.add(null);
            mix.addAll(ADAPTERS);
            List<Row> rows = new ArrayList<>();
            for (int k = 0; k < batch; k++) rows.add(ids("b" + batch + "_" + k, mix.get(k % mix.size()), rnd, promptLen, newTokens));
            cases.add(new Case("b" + batch + "_mixed", rows, true));
            return cases;
        }

        static Row ids(String id, String adapter, Random rnd, int len, int newTokens) {
            int[] p = new int[len];
            p[0] = SPEC.bosId();
            for (int i = 1; i < len; i++) p[i] = 3 + rnd.nextInt(SPEC.vocab() - 3);
            return new Row(id, adapter, null, p, newTokens);
        }

        Map<String, Object> shape() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("hidden", spec.hidden());
            m.put("layers", spec.layers());
            m.put("heads", spec.heads());
            m.put("kv_heads", spec.kvHeads());
            m.put("intermediate", spec.intermediate());
            m.put("vocab", spec.vocab());
            m.put("dtype", "float32");
            m.put("adapters", ADAPTERS.size() + " x rank 16 on q,k,v,o");
            return m;
        }
    }

    // ---------------------------------------------------------------- placement, generate

    /** Creates a session of a graph with verbose logs: ONNX Runtime prints which provider got each node. */
    static int placement(Map<String, String> o) throws OrtException {
        String graph = o.get("graph");
        if (graph == null) { System.err.println("placement: --graph FILE is required"); return 2; }
        OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE, "placement");
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (o.getOrDefault("provider", "cuda").equals("cuda")) opts.addCUDA(0);
            long t0 = System.nanoTime();
            try (OrtSession s = env.createSession(graph, opts)) {
                System.out.println("placement: session created in " + ms(System.nanoTime() - t0) + " ms; inputs " + s.getNumInputs()
                        + ", outputs " + s.getNumOutputs());
            }
        }
        return 0;
    }

    static int generate(Map<String, String> o) {
        if (!o.containsKey("model") || !o.containsKey("prompt")) { System.err.println("generate: --model DIR and --prompt TEXT are required"); return 2; }
        String adapter = o.get("adapter");
        Path adapters = o.containsKey("adapters") ? Path.of(o.get("adapters")) : null;
        EngineConfig config = new EngineConfig(Path.of(o.get("model")), adapters, o.getOrDefault("provider", "cuda"), 1);
        try (OnnxLoraEngine engine = OnnxLoraEngine.open(config)) {
            int[] ids = engine.encode(o.get("prompt"));
            GenerationTask t = new GenerationTask("generate", adapter, ids, Integer.parseInt(o.getOrDefault("max-new-tokens", "32")), 0f, 1f, 0, 1L,
                    o.containsKey("ignore-eos"));
            long s = System.nanoTime();
            Generation g = engine.generate(List.of(t)).getFirst();
            System.out.println("provider: " + engine.model().executionProvider());
            System.out.println("tokens: " + Arrays.toString(g.tokenIds()));
            System.out.println("text: " + engine.decode(g.tokenIds()));
            System.out.println("ms: " + ms(System.nanoTime() - s));
            return 0;
        }
    }

    // ---------------------------------------------------------------- helpers

    static void write(Path out, Map<String, Object> report) throws IOException {
        Files.write(out.resolve("gpu-check.json"), JSON.writeValueAsBytes(report));
    }

    static double ms(long nanos) { return Math.round(nanos / 1e4) / 100.0; }

    static double round(double v) { return Math.round(v * 100) / 100.0; }

    static double round4(double v) { return Math.round(v * 10000) / 10000.0; }

    static String stack(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        String s = w.toString();
        return s.length() > 4000 ? s.substring(0, 4000) + "..." : s;
    }
}
