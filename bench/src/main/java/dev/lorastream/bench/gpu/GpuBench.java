package dev.lorastream.bench.gpu;

import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.adapters.AdapterBank;
import dev.lorastream.engine.adapters.cache.AdapterCache;
import dev.lorastream.engine.adapters.cache.CacheConfig;
import dev.lorastream.engine.demo.RandomModels;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.model.SafetensorsWriter;
import dev.lorastream.engine.model.WeightNames;
import dev.lorastream.engine.onnx.EngineStatus;
import dev.lorastream.engine.onnx.OnnxLoraEngine;
import dev.lorastream.engine.runtime.Cuda;
import dev.lorastream.engine.runtime.DecoderSession;
import dev.lorastream.engine.scheduler.ContinuousBatcher;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

/**
 * {@code gpu-check bench}: the GPU benchmark, as far as it goes. A random backbone of
 * Llama-3.2-1B shape (generated here, float16 safetensors; nothing downloaded) with rank-16 q,k,v,o
 * adapters; the engine on CUDA in fp16 with the LoRA bank and KV cache in device memory.
 * <ol>
 *   <li>decode tokens/s at batch 32 (128-token prompts, 128 new tokens, EOS ignored): every row on
 *       the backbone, every row on one adapter, 32 distinct adapters
 *       ({@code multi_adapter_ratio} = distinct ÷ backbone-only);</li>
 *   <li>cold adapter load from host memory into a free bank slot, against the host-to-device
 *       bandwidth measured in the same run ({@code cold_load_vs_bound} = measured ÷ (bytes ÷
 *       pinned bandwidth)); and from the store (parse, validate, pack, copy);</li>
 *   <li>(item 2, {@link ManyAdapters#sustained}) sustained tokens/s over 1,000 adapters of Zipf(1.0)
 *       popularity through a bank smaller than the working set vs 5 adapters, hit rates per tier
 *       ({@code many_adapters_ratio});</li>
 *   <li>(item 4, {@link ManyAdapters#dedicated}) one dedicated merged-weights model per adapter, loaded on
 *       demand within the same device budget, at 3, 10 and 100 adapters ({@code vs_naive_100});</li>
 *   <li>(item 5, {@link KafkaBench}) end to end through an in-process Kafka broker and a {@code Worker} on the
 *       same engine, 1,000 Zipf adapters, vs the same stream on {@code engine.submit} ({@code kafka_overhead_p50_ms});</li>
 *   <li>(item {@code switch}, {@link Switching}; not in the default list, run it with {@code --items switch}) adapter
 *       switching under high concurrency on its own engine: TTFT and inter-token latency p50/p99 of requests whose
 *       adapter is in the device bank, only in host memory, or only in the store, at 1, 8, 32, 128 and 256 concurrent
 *       requests ({@code --switch-concurrency}) over working sets of 5, 100 and 1,000 adapters ({@code --switch-adapters}),
 *       and how much a store-tier adapter's admission delays the other rows of its step ({@code switching.cells[].cold_delay});
 *       sizes: {@code --switch-new-tokens 32 --switch-prompt 128 --switch-mix 2,1,1 --switch-min-requests 64 --switch-rounds 3
 *       --switch-max-batch 128 --switch-slots 256 --switch-host-slots 256 --switch-eviction lru}; about 3–3.5 minutes on an H200 with
 *       {@code --items switch --profile-steps 0} (the estimate is in {@link Switching}); writes {@code gpu-switch-ttft.png} and {@code gpu-switch-itl.png} beside the JSON.</li>
 * </ol>
 * {@code --items 1,2,3,4,5} picks which run; {@code gpu-check plot} draws item 4 (and item 2) as a PNG
 * ({@code --kind batch}: item 1; {@code --kind switch [--metric ttft_p50_ms|ttft_p99_ms|itl_p50_ms|itl_p99_ms]}: item switch).
 * Writes {@code gpu-bench.json}. {@code --shape tiny --provider cpu} runs the same code in seconds (tests).
 */
final class GpuBench {
    /** Llama-3.2-1B's shape (tied embeddings, vocab 128256, RoPE theta 500000). */
    static final RandomModels.BackboneSpec LLAMA_1B = new RandomModels.BackboneSpec("llama", "bench-llama-3.2-1b", 2048, 16, 32, 8, 8192,
            128256, 131072, 500000.0, 1e-5, true, false, 128000, 128001);
    static final RandomModels.BackboneSpec TINY = new RandomModels.BackboneSpec("llama", "bench-tiny", 64, 2, 4, 2, 128,
            512, 1024, 10000.0, 1e-5, true, false, 1, 2);
    static final List<String> TARGETS = List.of("q_proj", "k_proj", "v_proj", "o_proj");

    private GpuBench() {}

    static int run(Map<String, String> o) throws Exception {
        Path out = Path.of(o.getOrDefault("out", "gpu-bench-out"));
        Path work = Path.of(o.getOrDefault("work", Path.of(System.getProperty("java.io.tmpdir"), "lorastream-gpu-bench").toString()));
        String provider = o.getOrDefault("provider", "cuda");
        String precision = o.getOrDefault("precision", "fp16");
        RandomModels.BackboneSpec spec = o.getOrDefault("shape", "llama-3.2-1b").equals("tiny") ? TINY : LLAMA_1B;
        int batch = Integer.parseInt(o.getOrDefault("batch", "32"));
        int promptLen = Integer.parseInt(o.getOrDefault("prompt", "128"));
        int newTokens = Integer.parseInt(o.getOrDefault("new-tokens", "128"));
        int rank = Integer.parseInt(o.getOrDefault("rank", "16"));
        int repeats = Integer.parseInt(o.getOrDefault("repeats", "2"));
        int cold = Integer.parseInt(o.getOrDefault("cold", "8"));
        int profileSteps = Integer.parseInt(o.getOrDefault("profile-steps", "8"));
        int many = Integer.parseInt(o.getOrDefault("many", "1000"));
        int few = Integer.parseInt(o.getOrDefault("few", "5"));
        int[] batches = java.util.Arrays.stream(o.getOrDefault("batches", String.valueOf(batch)).split(",")).filter(x -> !x.isBlank())
                .mapToInt(Integer::parseInt).toArray();
        int maxBatch = Math.max(batch, java.util.Arrays.stream(batches).max().orElse(batch));
        int slots = Math.max(Integer.parseInt(o.getOrDefault("slots", "48")), maxBatch + cold + 2);
        int kvCapacity = Integer.parseInt(o.getOrDefault("kv-capacity", String.valueOf(Math.max(64, promptLen + newTokens + 16))));
        String graphKind = o.getOrDefault("graph", "auto");
        boolean cudaGraphs = !o.getOrDefault("cuda-graphs", "on").equals("off");
        Path peersJson = o.containsKey("peers") ? Path.of(o.get("peers")) : null;
        int decodeStreamRequests = Integer.parseInt(o.getOrDefault("decode-stream-requests", String.valueOf(5 * batch)));
        int decodeStreamRounds = Integer.parseInt(o.getOrDefault("decode-stream-rounds", "3"));
        int hostSlots = Integer.parseInt(o.getOrDefault("host-slots", "256"));
        int streamRequests = Integer.parseInt(o.getOrDefault("stream-requests", "160"));
        int streamRounds = Integer.parseInt(o.getOrDefault("stream-rounds", "1"));
        int[] dedicatedCounts = java.util.Arrays.stream(o.getOrDefault("dedicated-counts", "3,10,100").split(",")).filter(x -> !x.isBlank())
                .mapToInt(Integer::parseInt).toArray();
        int dedicatedRequests = Integer.parseInt(o.getOrDefault("dedicated-requests", "64"));
        long dedicatedCapMs = Long.parseLong(o.getOrDefault("dedicated-cap-ms", "40000"));
        int kafkaRequests = Integer.parseInt(o.getOrDefault("kafka-requests", "256"));
        int kafkaInFlight = Integer.parseInt(o.getOrDefault("kafka-in-flight", String.valueOf(batch)));
        int kafkaPartitions = Integer.parseInt(o.getOrDefault("kafka-partitions", "4"));
        int kafkaRounds = Integer.parseInt(o.getOrDefault("kafka-rounds", "2"));
        String eviction = o.getOrDefault("eviction", CacheConfig.DEFAULT_POLICY);
        java.util.Set<String> items = java.util.Set.of(o.getOrDefault("items", "1,agree,stream,sample,nolora,2,3,4,5").split(","));
        Files.createDirectories(out);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("runtime", GpuCheck.runtimeFacts());
        Map<String, Object> setup = new LinkedHashMap<>();
        r.put("setup", setup);
        setup.put("provider", provider);
        setup.put("precision", precision);
        setup.put("shape", shape(spec));
        setup.put("adapters", maxBatch + " distinct (+" + cold + " for cold loads), rank " + rank + " on " + String.join(",", TARGETS));
        setup.put("batches", batches);
        setup.put("kv_capacity", kvCapacity);
        setup.put("batch", batch);
        setup.put("prompt_tokens", promptLen);
        setup.put("new_tokens", newTokens);
        setup.put("ignore_eos", true);
        setup.put("repeats", repeats);
        List<String> errors = new ArrayList<>();
        r.put("errors", errors);
        int code = 0;
        int[][][] agreeTokens = new int[1][][];
        try {
            if (provider.equals("cuda")) r.put("h2d_bandwidth", bandwidth());
            List<String> ids = new ArrayList<>(), coldIds = new ArrayList<>();
            for (int i = 0; i < maxBatch; i++) ids.add(String.format(Locale.ROOT, "a%03d", i));
            for (int i = 0; i < cold; i++) ids.add("cold" + i);
            for (int i = 0; i < cold; i++) coldIds.add("cold" + i);
            List<String> manyIds = new ArrayList<>();
            boolean manyItems = items.contains("2") || items.contains("4") || items.contains("5");
            for (int i = 0; manyItems && i < many; i++) manyIds.add(String.format(Locale.ROOT, "z%04d", i));
            long t0 = System.nanoTime();
            Path backbone = writeBackbone(work.resolve("backbone-" + spec.name()), spec, 7);
            Path adapters = writeAdapters(work.resolve("adapters-" + spec.name() + "-r" + rank), spec, ids, rank);
            setup.put("model_write_ms", GpuCheck.ms(System.nanoTime() - t0));
            t0 = System.nanoTime();
            writeAdapters(adapters, spec, manyIds, rank, 5000L);
            setup.put("many_adapters_write_ms", GpuCheck.ms(System.nanoTime() - t0));
            setup.put("many_adapters", manyIds.size() + " distinct PEFT adapters (float32 safetensors, each its own seed), z0000..");
            System.out.println("bench: model and " + (ids.size() + manyIds.size()) + " adapters ready in " + setup.get("model_write_ms") + " + "
                    + setup.get("many_adapters_write_ms") + " ms");

            ModelConfig model = ModelConfig.read(backbone);
            long slot32 = AdapterBank.slotBytes(model, rank);
            CacheConfig cache = CacheConfig.ofBytes(slot32 * slots, slot32 * Math.max(hostSlots, slots)).withPolicy(eviction);
            setup.put("cache", Map.of("device_slots", slots, "host_slots", Math.max(hostSlots, slots), "eviction", eviction));
            EngineConfig config = new EngineConfig(backbone, adapters, provider, maxBatch).withMaxLoraRank(rank).withPrecision(precision)
                    .withMaxNewTokensLimit(Math.max(newTokens, profileSteps + 1)).withGraph(graphKind).withKvCapacity(kvCapacity).withCudaGraphs(cudaGraphs);
            if (provider.startsWith("cpu")) config = config.withIntraOpThreads(Runtime.getRuntime().availableProcessors());
            t0 = System.nanoTime();
            OnnxLoraEngine opened = openWithFallback(config, cache, setup, errors);
            config = opened.config();
            try (OnnxLoraEngine engine = opened) {
                setup.put("engine_open_ms", GpuCheck.ms(System.nanoTime() - t0));
                setup.put("graph", engine.graphChoice().reason());
                EngineStatus.Bank bank = engine.status().bank();
                setup.put("bank", Map.of("memory", bank.memory().name(), "slots", bank.slots(),
                        "ranks", ranks(bank), "bytes", bank.bytes(), "slot_bytes", bank.slotBytes()));
                System.out.println("bench: engine open in " + setup.get("engine_open_ms") + " ms, " + setup.get("graph") + ", bank " + setup.get("bank"));
                setup.put("device_bytes_used_after_open", DeviceMemoryInfo.usedBytes(provider));
                List<String> distinctIds = ids.subList(0, maxBatch);
                if (items.contains("1")) {
                    long s0 = System.nanoTime();
                    r.put("decode_sweep", DecodeBench.sweep(engine, "ours", spec, batches, promptLen, newTokens, repeats, distinctIds, errors));
                    setup.put("sweep_ms", GpuCheck.ms(System.nanoTime() - s0));
                }
                if (items.contains("stream")) {
                    try {
                        r.put("decode_stream", DecodeBench.stream(engine, spec, batch, decodeStreamRequests, decodeStreamRounds, promptLen, newTokens,
                                distinctIds.subList(0, batch)));
                    } catch (RuntimeException e) {
                        errors.add("stream: " + GpuCheck.stack(e));
                    }
                }
                if (items.contains("agree")) {
                    try {
                        agreeTokens[0] = DecodeBench.tokens(engine, "agree-", spec, batch, promptLen, newTokens, distinctIds);
                    } catch (RuntimeException e) {
                        errors.add("agree (ours): " + GpuCheck.stack(e));
                    }
                }
                if (items.contains("3")) r.put("cold_load", coldLoads(engine, spec, coldIds, r));
                if (items.contains("2")) {
                    long s0 = System.nanoTime();
                    r.put("many_adapters", ManyAdapters.sustained(engine, manyIds, ids.subList(0, few), spec, batch, promptLen, newTokens,
                            streamRequests, streamRounds, r));
                    setup.put("item2_ms", GpuCheck.ms(System.nanoTime() - s0));
                }
                if (items.contains("4")) {
                    long s0 = System.nanoTime();
                    try {
                        r.put("dedicated", ManyAdapters.dedicated(engine, work, spec, backbone, rank, 5000L, manyIds, dedicatedCounts, batch, promptLen,
                                newTokens, dedicatedRequests, dedicatedCapMs, provider, precision, r));
                    } catch (Throwable t) {
                        errors.add("item 4: " + GpuCheck.stack(t));
                        System.out.println("bench: item 4 FAILED: " + t);
                        code = 1;
                    }
                    setup.put("item4_ms", GpuCheck.ms(System.nanoTime() - s0));
                }
                if (items.contains("5")) {
                    try {
                        r.put("kafka", KafkaBench.run(engine, work, backbone, adapters, manyIds, spec, batch, promptLen, newTokens, kafkaRequests,
                                kafkaInFlight, kafkaPartitions, kafkaRounds, r));
                    } catch (Throwable t) {
                        errors.add("item 5: " + GpuCheck.stack(t));
                        System.out.println("bench: item 5 FAILED: " + t);
                        code = 1;
                    }
                }
            }
            if (items.contains("agree") && agreeTokens[0] != null) {
                // the same batch through the reference graph in the same precision: how far the fused graph's greedy tokens agree
                try (OnnxLoraEngine reference = OnnxLoraEngine.open(config.withGraph("reference"), cache)) {
                    int[][] refTokens = DecodeBench.tokens(reference, "agree-", spec, batch, promptLen, newTokens, ids.subList(0, maxBatch));
                    Map<String, Object> a = DecodeBench.agreement(agreeTokens[0], refTokens);
                    a.put("engines", List.of(String.valueOf(setup.get("graph")), reference.graphChoice().reason()));
                    r.put("fused_vs_reference_tokens", a);
                    System.out.println("bench: fused vs reference tokens " + a);
                } catch (RuntimeException e) {
                    errors.add("agree (reference): " + GpuCheck.stack(e));
                }
            }
            if (items.contains("sample")) {
                try {
                    r.put("sampling", sampling(config, cache, spec, batch, promptLen, newTokens, repeats, ids.subList(0, batch), r));
                } catch (RuntimeException e) {
                    errors.add("sample: " + GpuCheck.stack(e));
                }
            }
            if (items.contains("nolora")) {
                // the backbone as a deployment without adapters would run it: no LoRA nodes in the graph
                try (OnnxLoraEngine plain = OnnxLoraEngine.open(config.withBank(0, List.of()), CacheConfig.DEFAULT, emptyStore())) {
                    r.put("decode_sweep_nolora", DecodeBench.sweep(plain, "nolora", spec, batches, promptLen, newTokens, repeats, List.of(), errors));
                } catch (RuntimeException e) {
                    errors.add("nolora: " + GpuCheck.stack(e));
                }
            }
            if (items.contains("switch")) {
                // its own engine (more rows, its own bank and host tier, logical adapter ids over the adapters written above)
                long s0 = System.nanoTime();
                try {
                    r.put("switching", Switching.run(config, spec, rank, ids.stream().map(adapters::resolve).toList(), Switching.Options.parse(o, promptLen),
                            out, r));
                } catch (Throwable t) {
                    errors.add("switch: " + GpuCheck.stack(t));
                    System.out.println("bench: item switch FAILED: " + t);
                    code = 1;
                }
                setup.put("switch_ms", GpuCheck.ms(System.nanoTime() - s0));
            }
            if (profileSteps > 0) {
                // a second engine, eager (no CUDA graphs: a profile sees every node), with ONNX Runtime's profiler on: where a decode step's time goes
                Path prefix = work.resolve("ort-profile");
                System.setProperty(DecoderSession.PROFILE_PROPERTY, prefix.toString());
                try (OnnxLoraEngine engine = OnnxLoraEngine.open(config.withCudaGraphs(false), cache)) {
                    List<int[]> prompts = DecodeBench.prompts(spec, batch, promptLen);
                    engine.generate(tasks("pw", prompts, ids.subList(0, batch), 2));
                    List<Generation> g = engine.generate(tasks("pr", prompts, ids.subList(0, batch), profileSteps + 1));
                    Path file = engine.endProfiling();
                    Map<String, Object> prof = profile(file, profileSteps);
                    prof.put("engine", engine.graphChoice().reason());
                    r.put("profile", prof);
                    Files.deleteIfExists(file);
                } finally {
                    System.clearProperty(DecoderSession.PROFILE_PROPERTY);
                }
            }
            DecodeBench.table(r, peersJson);
        } catch (Throwable t) {
            errors.add(GpuCheck.stack(t));
            System.out.println("bench FAILED: " + t);
            code = 1;
        }
        Files.write(out.resolve("gpu-bench.json"), GpuCheck.JSON.writeValueAsBytes(r));
        System.out.println("bench: " + GpuCheck.JSON.writeValueAsString(summary(r)));
        return code;
    }

    /**
     * The engine as configured; when it cannot open with CUDA graphs, again without them; when the
     * fused graph cannot open, the reference graph; each failure recorded.
     */
    static OnnxLoraEngine openWithFallback(EngineConfig config, CacheConfig cache, Map<String, Object> setup, List<String> errors) {
        List<EngineConfig> tries = new ArrayList<>(List.of(config));
        if (config.cudaGraphs() && config.executionProvider().equals("cuda")) tries.add(config.withCudaGraphs(false));
        if (!config.graph().equals("reference")) tries.add(config.withGraph("reference").withCudaGraphs(false));
        RuntimeException last = null;
        for (EngineConfig c : tries) {
            try {
                return OnnxLoraEngine.open(c, cache);
            } catch (RuntimeException e) {
                last = e;
                errors.add("engine open (graph " + c.graph() + ", CUDA graphs " + c.cudaGraphs() + "): " + GpuCheck.stack(e));
                setup.put("open_failures", errors.size());
                System.out.println("bench: engine open FAILED (graph " + c.graph() + ", CUDA graphs " + c.cudaGraphs() + "): " + e.getMessage());
            }
        }
        throw last;
    }

    /**
     * Sampled decode at one batch, distinct adapters: the sampling head (top_k 50, Hugging Face's
     * default; top_p 0.9 without a cut, which random weights' flat logits mostly leave to the host)
     * against the same engine sampling every row on the host (no sampling head in the graph), and
     * greedy for the scale. {@code sample_device_vs_host_b32}: top_k 50 on the device ÷ on the host.
     */
    private static Map<String, Object> sampling(EngineConfig config, CacheConfig cache, RandomModels.BackboneSpec spec, int batch, int promptLen,
                                                int newTokens, int repeats, List<String> adapters, Map<String, Object> report) {
        Map<String, Object> m = new LinkedHashMap<>();
        List<int[]> prompts = DecodeBench.prompts(spec, batch, promptLen);
        Decoding topK = new Decoding(0.8f, 1f, 50), topP = new Decoding(0.8f, 0.9f, 0);
        String before = System.getProperty(dev.lorastream.engine.graph.SamplingHead.PROPERTY);
        try {
            for (String candidates : List.of(String.valueOf(dev.lorastream.engine.graph.SamplingHead.DEFAULT_CANDIDATES), "0")) {
                System.setProperty(dev.lorastream.engine.graph.SamplingHead.PROPERTY, candidates);
                String where = candidates.equals("0") ? "host" : "device";
                try (OnnxLoraEngine engine = OnnxLoraEngine.open(config, cache)) {
                    m.put(where + "_engine", engine.graphChoice().reason());
                    m.put(where + "_greedy", decodeCase(engine, where + " greedy b" + batch, prompts, adapters, newTokens, repeats));
                    m.put(where + "_top_k50", decodeCase(engine, where + " top-k50 b" + batch, prompts, adapters, newTokens, repeats, topK));
                    m.put(where + "_top_p0.9", decodeCase(engine, where + " top-p0.9 b" + batch, prompts, adapters, newTokens, repeats, topP));
                }
            }
        } finally {
            if (before == null) System.clearProperty(dev.lorastream.engine.graph.SamplingHead.PROPERTY);
            else System.setProperty(dev.lorastream.engine.graph.SamplingHead.PROPERTY, before);
        }
        double device = rate(m, "device_top_k50"), host = rate(m, "host_top_k50");
        if (device > 0 && host > 0) {
            double ratio = GpuCheck.round4(device / host);
            m.put("device_vs_host_top_k50", ratio);
            if (batch == 32) report.put("sample_device_vs_host_b32", ratio);
        }
        double greedy = rate(m, "device_greedy");
        if (device > 0 && greedy > 0) m.put("top_k50_vs_greedy", GpuCheck.round4(device / greedy));
        return m;
    }

    private static double rate(Map<String, Object> m, String key) {
        return m.get(key) instanceof Map<?, ?> c && c.get("decode_tokens_per_s") instanceof Double d ? d : 0;
    }

    private static dev.lorastream.engine.adapters.AdapterStore emptyStore() {
        return new dev.lorastream.engine.adapters.FileAdapterStore(null);
    }

    private static Map<String, Object> summary(Map<String, Object> r) {
        Map<String, Object> s = new LinkedHashMap<>();
        for (String k : List.of("vs_hf_compiled_b32", "vs_hf_compiled_b32_nolora", "ms_per_step_b1", "multi_adapter_ratio", "multi_adapter_ratio_vs_nolora",
                "vs_peft_mixed", "stream_vs_static_b32", "sample_device_vs_host_b32", "vs_hbm_bound_b32", "cold_load_vs_bound", "many_adapters_ratio", "many_adapters_ratio_pooled", "vs_naive_100", "vs_naive_100_hash_excluded", "kafka_overhead_p50_ms",
                "kafka_overhead_p50_ms_saturated", "kafka_overhead_p50_ms_transport", "errors")) if (r.containsKey(k)) s.put(k, r.get(k));
        return s;
    }

    /**
     * The last {@code steps} runs of an ONNX Runtime profile (decode steps): each run's wall, the
     * host time spent in its nodes (on CUDA a node's time is its kernel launches, not the kernels),
     * node count, and the op types that take the most of it.
     */
    static Map<String, Object> profile(Path file, int steps) throws IOException {
        com.fasterxml.jackson.databind.JsonNode events = GpuCheck.JSON.readTree(file.toFile());
        List<long[]> runs = new ArrayList<>(); // ts, dur
        for (com.fasterxml.jackson.databind.JsonNode e : events) {
            if ("model_run".equals(e.path("name").asText())) runs.add(new long[] {e.path("ts").asLong(), e.path("dur").asLong()});
        }
        runs.sort(java.util.Comparator.comparingLong(x -> x[0]));
        List<long[]> last = runs.subList(Math.max(0, runs.size() - steps), runs.size());
        long[] nodeUs = new long[last.size()], nodes = new long[last.size()];
        Map<String, Long> byOp = new java.util.TreeMap<>(), byProvider = new java.util.TreeMap<>();
        for (com.fasterxml.jackson.databind.JsonNode e : events) {
            if (!"Node".equals(e.path("cat").asText()) || !e.path("name").asText().endsWith("_kernel_time")) continue;
            long ts = e.path("ts").asLong(), dur = e.path("dur").asLong();
            for (int i = 0; i < last.size(); i++) {
                if (ts >= last.get(i)[0] && ts <= last.get(i)[0] + last.get(i)[1]) {
                    nodeUs[i] += dur;
                    nodes[i]++;
                    byOp.merge(e.path("args").path("op_name").asText(), dur, Long::sum);
                    byProvider.merge(e.path("args").path("provider").asText(), dur, Long::sum);
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("decode_runs", last.size());
        m.put("model_run_ms", last.stream().map(x -> GpuCheck.round(x[1] / 1000.0)).toList());
        m.put("node_host_ms", LongStream.of(nodeUs).mapToObj(x -> GpuCheck.round(x / 1000.0)).toList());
        m.put("nodes_per_run", nodes.length == 0 ? 0 : nodes[nodes.length - 1]);
        long total = LongStream.of(nodeUs).sum();
        List<Map<String, Object>> top = new ArrayList<>();
        byOp.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(12).forEach(e -> {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("op", e.getKey());
            t.put("ms_per_run", GpuCheck.round(e.getValue() / 1000.0 / Math.max(1, last.size())));
            t.put("share", GpuCheck.round4((double) e.getValue() / Math.max(1, total)));
            top.add(t);
        });
        m.put("top_ops", top);
        Map<String, Object> prov = new LinkedHashMap<>();
        byProvider.forEach((k, v) -> prov.put(k, GpuCheck.round(v / 1000.0 / Math.max(1, last.size()))));
        m.put("ms_per_run_by_provider", prov);
        System.out.println("bench: profile " + m);
        return m;
    }

    static Map<String, Object> shape(RandomModels.BackboneSpec s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("hidden", s.hidden());
        m.put("layers", s.layers());
        m.put("heads", s.heads());
        m.put("kv_heads", s.kvHeads());
        m.put("intermediate", s.intermediate());
        m.put("vocab", s.vocab());
        m.put("tied_embeddings", s.tieEmbeddings());
        long params = (long) s.vocab() * s.hidden() * (s.tieEmbeddings() ? 1 : 2) + s.hidden();
        for (Projection p : Projection.values()) params += (long) s.layers() * s.in(p) * s.out(p);
        params += 2L * s.layers() * s.hidden();
        m.put("parameters", params);
        return m;
    }

    private static Map<String, Integer> ranks(EngineStatus.Bank bank) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (Projection p : Projection.values()) m.put(p.moduleName(), bank.ranks().getOrDefault(p, 0));
        return m;
    }

    static int[] prompt(Random rnd, RandomModels.BackboneSpec spec, int len) {
        int[] p = new int[len];
        p[0] = spec.bosId();
        for (int i = 1; i < len; i++) p[i] = 3 + rnd.nextInt(Math.min(spec.vocab(), 128000) - 3);
        return p;
    }

    static List<GenerationTask> tasks(String prefix, List<int[]> prompts, List<String> adapters, int newTokens) {
        return tasks(prefix, prompts, adapters, newTokens, Decoding.GREEDY);
    }

    /** How a benchmark's rows pick their tokens: greedy, or sampled with these parameters (each row its own seed). */
    record Decoding(float temperature, float topP, int topK) {
        static final Decoding GREEDY = new Decoding(0f, 1f, 0);

        Map<String, Object> describe() { return Map.of("temperature", temperature, "top_p", topP, "top_k", topK); }
    }

    static List<GenerationTask> tasks(String prefix, List<int[]> prompts, List<String> adapters, int newTokens, Decoding d) {
        List<GenerationTask> t = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            t.add(new GenerationTask(prefix + i, adapters.get(i), prompts.get(i), newTokens, d.temperature(), d.topP(), d.topK(), 1L + i, true));
        }
        return t;
    }

    /** One batch of {@code rows} generating {@code newTokens} each, {@code repeats} times; the best repeat's decode rate. */
    static Map<String, Object> decodeCase(OnnxLoraEngine engine, String name, List<int[]> prompts, List<String> adapters, int newTokens, int repeats) {
        return decodeCase(engine, name, prompts, adapters, newTokens, repeats, Decoding.GREEDY);
    }

    /** {@link #decodeCase} with sampled rows: also how many sampled tokens the device chose and how many the host sampled. */
    static Map<String, Object> decodeCase(OnnxLoraEngine engine, String name, List<int[]> prompts, List<String> adapters, int newTokens, int repeats,
                                          Decoding decoding) {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Double> decodeRates = new ArrayList<>(), walls = new ArrayList<>(), prefills = new ArrayList<>(), steps = new ArrayList<>();
        int[][] firstTokens = null;
        boolean same = true;
        for (int rep = 0; rep < repeats; rep++) {
            ContinuousBatcher.Stats before = engine.status().scheduler();
            long t0 = System.nanoTime();
            List<Generation> gens = engine.generate(tasks(name + rep + "-", prompts, adapters, newTokens, decoding));
            double wallMs = (System.nanoTime() - t0) / 1e6;
            ContinuousBatcher.Stats after = engine.status().scheduler();
            if (decoding.temperature() > 0f) {
                ContinuousBatcher.Stats d = after.since(before);
                m.put("samples_on_device", d.samplesOnDevice());
                m.put("samples_on_host", d.samplesOnHost());
            }
            long prefillMs = gens.stream().mapToLong(Generation::prefillMs).max().orElse(0);
            long decodeMs = gens.stream().mapToLong(Generation::decodeMs).max().orElse(0);
            long passes = after.passes() - before.passes();
            int decodeSteps = newTokens - 1; // the first token comes from the prefill
            walls.add(GpuCheck.round(wallMs));
            prefills.add((double) prefillMs);
            steps.add(GpuCheck.round((double) decodeMs / decodeSteps));
            decodeRates.add(GpuCheck.round((double) prompts.size() * decodeSteps / (decodeMs / 1000.0)));
            m.put("forward_passes", passes);
            int[][] tokens = gens.stream().map(Generation::tokenIds).toArray(int[][]::new);
            if (firstTokens == null) firstTokens = tokens;
            else same &= java.util.Arrays.deepEquals(firstTokens, tokens);
        }
        double best = decodeRates.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        m.put("rows", prompts.size());
        m.put("decode_tokens_per_s", best);
        m.put("decode_tokens_per_s_each_repeat", decodeRates);
        m.put("decode_ms_per_step", steps);
        m.put("prefill_ms", prefills);
        m.put("wall_ms", walls);
        double bestWall = walls.stream().mapToDouble(Double::doubleValue).min().orElse(1);
        m.put("end_to_end_tokens_per_s", GpuCheck.round((double) prompts.size() * newTokens / (bestWall / 1000.0)));
        m.put("deterministic_across_repeats", same);
        if (decoding.temperature() > 0f) m.put("decoding", decoding.describe());
        System.out.printf(Locale.ROOT, "bench: %-18s rows %d  decode %.1f tok/s (per repeat %s), %s ms/step, prefill %s ms, wall %s ms%n", name,
                prompts.size(), best, decodeRates, steps, prefills, walls);
        return m;
    }

    /**
     * Cold loads through the engine's own path: an adapter not yet on the device, first brought into
     * host memory (from the store when it is not there: read, validated, packed; timed), then placed by
     * a one-token request; the bank's write statistics give the copy's time and bytes.
     */
    private static Map<String, Object> coldLoads(OnnxLoraEngine engine, RandomModels.BackboneSpec spec, List<String> ids, Map<String, Object> report) {
        Map<String, Object> m = new LinkedHashMap<>();
        EngineStatus start = engine.status();
        long bytes = start.bank().slotBytes();
        m.put("slot_bytes", bytes);
        List<Double> fromHost = new ArrayList<>(), storeToHost = new ArrayList<>();
        List<Long> copied = new ArrayList<>();
        int[] prompt = DecodeBench.prompts(spec, 1, 8).getFirst();
        for (String id : ids) {
            AdapterCache.Snapshot cache = engine.status().cache();
            if (cache.deviceResident().contains(id)) throw new IllegalStateException("cold load: " + id + " is already on the device");
            GenerationTask task = tasks("cold-" + id + "-", List.of(prompt), List.of(id), 1).getFirst();
            long t0 = System.nanoTime();
            try {
                engine.validate(task); // brings it into host memory when it is not there
            } catch (dev.lorastream.engine.InvalidTaskException e) {
                throw new IllegalStateException("cold load of " + id + ": " + e.getMessage(), e);
            }
            if (!cache.hostResident().contains(id)) storeToHost.add(GpuCheck.round4((System.nanoTime() - t0) / 1e6));
            AdapterBank.WriteStats before = engine.status().bank().writes();
            engine.generate(List.of(task));
            AdapterBank.WriteStats after = engine.status().bank().writes();
            if (after.writes() - before.writes() != 1) {
                throw new IllegalStateException("cold load of " + id + " made " + (after.writes() - before.writes()) + " bank writes, expected one");
            }
            fromHost.add(GpuCheck.round4((after.nanos() - before.nanos()) / 1e6));
            copied.add(after.bytes() - before.bytes());
        }
        m.put("from_host_ms", fromHost);
        m.put("store_to_host_ms", storeToHost);
        m.put("bytes_copied_per_load", copied);
        double hostMs = fromHost.stream().sorted().toList().get((fromHost.size() - 1) / 2);
        m.put("from_host_ms_median", hostMs);
        long bytesCopied = copied.isEmpty() ? bytes : copied.getFirst();
        if (report.get("h2d_bandwidth") instanceof Map<?, ?> bw && bw.get("pinned_gb_per_s") instanceof Double pinned) {
            double boundMs = bytesCopied / (pinned * 1e9) * 1000;
            m.put("bound_ms_at_pinned_bandwidth", GpuCheck.round4(boundMs));
            double ratio = GpuCheck.round4(hostMs / boundMs);
            m.put("cold_load_vs_bound", ratio);
            report.put("cold_load_vs_bound", ratio);
            if (bw.get("pageable_gb_per_s") instanceof Double pageable) {
                m.put("bound_ms_at_pageable_bandwidth", GpuCheck.round4(bytesCopied / (pageable * 1e9) * 1000));
            }
        }
        System.out.println("bench: cold loads " + m);
        return m;
    }

    /** Host-to-device copies of 256 MiB from pageable and from pinned memory ({@code cudaMemcpy}), best of 5. */
    static Map<String, Object> bandwidth() {
        long bytes = 256L << 20;
        Cuda cuda = Cuda.get();
        MemorySegment device = cuda.malloc(bytes);
        double best = Double.MAX_VALUE, bestPinned = Double.MAX_VALUE;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pageable = a.allocate(bytes, 4096);
            pageable.fill((byte) 1);
            MemorySegment pinned = cuda.mallocHostUnpooled(bytes);
            try {
                pinned.fill((byte) 1);
                for (int i = 0; i < 5; i++) {
                    long t = System.nanoTime();
                    cuda.memcpy(device, pageable, bytes, Cuda.HOST_TO_DEVICE);
                    best = Math.min(best, (System.nanoTime() - t) / 1e9);
                    t = System.nanoTime();
                    cuda.memcpy(device, pinned, bytes, Cuda.HOST_TO_DEVICE);
                    bestPinned = Math.min(bestPinned, (System.nanoTime() - t) / 1e9);
                }
            } finally {
                cuda.freeHost(pinned);
            }
        } finally {
            cuda.free(device);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bytes", bytes);
        m.put("pageable_gb_per_s", GpuCheck.round(bytes / best / 1e9));
        m.put("pinned_gb_per_s", GpuCheck.round(bytes / bestPinned / 1e9));
        System.out.println("bench: host-to-device " + m);
        return m;
    }

    // ---------------------------------------------------------------- the random model, written fast

    /**
     * config.json and one float16 {@code model.safetensors} of random weights with the scales of
     * {@link RandomModels} (projections N(0, 1/in), tied embedding N(0, 4/hidden), norms ~1),
     * generated in parallel and written by positional writes; kept when the config is unchanged.
     */
    static Path writeBackbone(Path dir, RandomModels.BackboneSpec s, long seed) throws IOException {
        return writeBackbone(dir, s, seed, Map.of());
    }

    /**
     * As {@link #writeBackbone(Path, RandomModels.BackboneSpec, long)}, with {@code deltas} (row-major,
     * the tensor's shape) added to the named tensors before rounding to float16: a merged model
     * ({@code W + scaling·B·A}) of the same random backbone.
     */
    static Path writeBackbone(Path dir, RandomModels.BackboneSpec s, long seed, Map<String, float[]> deltas) throws IOException {
        Map<String, Object> config = new LinkedHashMap<>(s.configJson());
        config.put("torch_dtype", "float16");
        byte[] configBytes = GpuCheck.JSON.writeValueAsBytes(config);
        Path weights = dir.resolve("model.safetensors");
        boolean changed = RandomModels.writeIfChanged(dir.resolve("config.json"), configBytes);
        if (!changed && Files.isRegularFile(weights)) return dir;
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, double[]> dist = new LinkedHashMap<>(); // {mean, std}
        shapes.put(WeightNames.EMBED_TOKENS, new long[] {s.vocab(), s.hidden()});
        dist.put(WeightNames.EMBED_TOKENS, new double[] {0, s.tieEmbeddings() ? 2.0 / Math.sqrt(s.hidden()) : 1.0});
        for (int l = 0; l < s.layers(); l++) {
            shapes.put(WeightNames.inputNorm(l), new long[] {s.hidden()});
            dist.put(WeightNames.inputNorm(l), new double[] {1, 0.1});
            shapes.put(WeightNames.postAttentionNorm(l), new long[] {s.hidden()});
            dist.put(WeightNames.postAttentionNorm(l), new double[] {1, 0.1});
            for (Projection p : Projection.values()) {
                shapes.put(WeightNames.weight(l, p), new long[] {s.out(p), s.in(p)});
                dist.put(WeightNames.weight(l, p), new double[] {0, 1.0 / Math.sqrt(s.in(p))});
            }
        }
        shapes.put(WeightNames.FINAL_NORM, new long[] {s.hidden()});
        dist.put(WeightNames.FINAL_NORM, new double[] {1, 0.1});
        if (!s.tieEmbeddings()) {
            shapes.put(WeightNames.LM_HEAD, new long[] {s.vocab(), s.hidden()});
            dist.put(WeightNames.LM_HEAD, new double[] {0, 2.0 / Math.sqrt(s.hidden())});
        }
        StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        Map<String, Long> offsets = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long n = LongStream.of(e.getValue()).reduce(1, Math::multiplyExact);
            header.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"F16\",\"shape\":").append(java.util.Arrays.toString(e.getValue()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(offset).append(',').append(offset + 2 * n).append("]}");
            offsets.put(e.getKey(), offset);
            offset += 2 * n;
        }
        header.append('}');
        while ((header.length() + 8) % 8 != 0) header.append(' ');
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + h.length;
        Files.createDirectories(dir);
        Path tmp = dir.resolve("model.safetensors.tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(h.length).put(h).flip();
            while (head.hasRemaining()) ch.write(head, head.position());
            int chunk = 1 << 20;
            int t = 0;
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                long n = LongStream.of(e.getValue()).reduce(1, Math::multiplyExact);
                double mean = dist.get(e.getKey())[0], std = dist.get(e.getKey())[1];
                float[] delta = deltas.get(e.getKey());
                long base = dataStart + offsets.get(e.getKey());
                long tensorSeed = seed * 1_000_003L + t++;
                int chunks = (int) ((n + chunk - 1) / chunk);
                IntStream.range(0, chunks).parallel().forEach(c -> {
                    long from = (long) c * chunk;
                    int len = (int) Math.min(chunk, n - from);
                    SplittableRandom rnd = new SplittableRandom(tensorSeed * 65_537L + c);
                    ByteBuffer buf = ByteBuffer.allocate(2 * len).order(ByteOrder.LITTLE_ENDIAN);
                    for (int i = 0; i < len; i++) {
                        float v = (float) (mean + rnd.nextGaussian() * std);
                        if (delta != null) v += delta[(int) (from + i)];
                        buf.putShort(Float.floatToFloat16(v));
                    }
                    buf.flip();
                    try {
                        long pos = base + 2 * from;
                        while (buf.hasRemaining()) pos += ch.write(buf, pos);
                    } catch (IOException x) {
                        throw new java.io.UncheckedIOException(x);
                    }
                });
            }
        }
        Files.move(tmp, weights, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return dir;
    }

    /** PEFT adapters (float32 safetensors, as trainers write them), one seed each, written in parallel. */
    static Path writeAdapters(Path dir, RandomModels.BackboneSpec s, List<String> ids, int rank) throws IOException {
        return writeAdapters(dir, s, ids, rank, 1000L);
    }

    static RandomModels.LoraSpec loraSpec(RandomModels.BackboneSpec s, int rank) {
        return new RandomModels.LoraSpec(TARGETS, rank, 2.0 * rank, false, s.name(), 0.05);
    }

    /** As above; adapter {@code i} of {@code ids} is seeded {@code seedBase + i}. */
    static Path writeAdapters(Path dir, RandomModels.BackboneSpec s, List<String> ids, int rank, long seedBase) throws IOException {
        RandomModels.LoraSpec lora = loraSpec(s, rank);
        byte[] config = GpuCheck.JSON.writeValueAsBytes(lora.configJson());
        IntStream.range(0, ids.size()).parallel().forEach(i -> {
            Path a = dir.resolve(ids.get(i));
            try {
                RandomModels.writeIfChanged(a.resolve("adapter_config.json"), config);
                if (!Files.isRegularFile(a.resolve("adapter_model.safetensors"))) {
                    RandomModels.writeIfChanged(a.resolve("adapter_model.safetensors"),
                            SafetensorsWriter.toBytes(RandomModels.lora(s, lora, seedBase + i), Map.of("format", "pt")));
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        return dir;
    }
}
