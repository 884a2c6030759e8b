package dev.lorastream.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lorastream.engine.model.Checkpoint;
import dev.lorastream.engine.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class GpuBenchTest {

    /** The benchmark's code on the CPU, a tiny model: every case runs, the ratios are computed, the cold loads place adapters. */
    @Test
    void theBenchmarkRunsEndToEndOnATinyModel(@TempDir Path dir) throws Exception {
        int code = GpuCheck.run(new String[] {"bench", "--provider", "cpu", "--precision", "fp16", "--shape", "tiny", "--batch", "4", "--batches", "1,4",
                "--items", "1,2,3,4", "--prompt", "8", "--new-tokens", "5", "--repeats", "1", "--cold", "2", "--many", "12", "--few", "2", "--slots", "8", "--host-slots", "8",
                "--stream-requests", "12", "--dedicated-counts", "3,10", "--dedicated-requests", "8", "--out", dir.resolve("out").toString(),
                "--work", dir.resolve("work").toString()});

        JsonNode r = GpuCheck.JSON.readTree(dir.resolve("out/gpu-bench.json").toFile());
        assertThat(r.path("errors").toString()).isEqualTo("[]");
        assertThat(code).isZero();
        assertThat(r.path("setup").path("bank").path("memory").asText()).isEqualTo("ORT_CPU");
        assertThat(r.path("setup").path("bank").path("ranks").path("q_proj").asInt()).isEqualTo(16);
        assertThat(r.path("setup").path("bank").path("ranks").path("gate_proj").asInt()).as("no adapter targets gate_proj: no LoRA there").isZero();
        assertThat(r.path("setup").path("graph").asText()).as("fp16 on the CPU: the reference graph").startsWith("reference graph");
        JsonNode sweep = r.path("decode_sweep").path("by_batch");
        assertThat(sweep).hasSize(2);
        for (JsonNode row : sweep) {
            for (String c : new String[] {"backbone_only", "distinct_adapters"}) {
                assertThat(row.path(c).path("decode_tokens_per_s").asDouble()).as("batch %s %s", row.path("batch"), c).isPositive();
            }
        }
        assertThat(r.path("multi_adapter_ratio").isMissingNode()).as("no batch 32 in this sweep").isTrue();
        assertThat(r.path("decode_table")).hasSize(2);
        assertThat(r.path("cold_load").path("from_host_ms")).as("both cold adapters placed by a request, one bank write each").hasSize(2);
        assertThat(r.path("cold_load").path("store_to_host_ms").isArray()).isTrue();
        // the qkv group (A' 64 x 48, block-diagonal B' 48 x 128) and o (64 x 16, 16 x 64) of 2 layers in fp16
        assertThat(r.path("cold_load").path("bytes_copied_per_load").get(0).asLong()).isEqualTo(2L * (64 * 48 + 48 * 128 + 64 * 16 + 16 * 64) * 2);
        // item 2: 12 adapters through 8 device slots vs 2 adapters; hit rates per tier from the engine's counters
        JsonNode many = r.path("many_adapters");
        assertThat(many.path("device_slots").asInt()).isEqualTo(8);
        assertThat(many.path("many_tokens_per_s").asDouble()).isPositive();
        assertThat(many.path("few_tokens_per_s").asDouble()).isPositive();
        assertThat(r.path("many_adapters_ratio").asDouble()).isPositive();
        assertThat(many.path("passes").get(0).path("device_hit_rate").isNumber()).isTrue();
        // item 4: dedicated merged-weights models loaded on demand, as many resident as the budget holds
        JsonNode ded = r.path("dedicated");
        assertThat(ded.path("dedicated_models_resident").asInt()).isPositive();
        assertThat(ded.path("by_adapters")).hasSize(2);
        for (JsonNode row : ded.path("by_adapters")) {
            assertThat(row.path("ours_tokens_per_s").asDouble()).isPositive();
            assertThat(row.path("dedicated_tokens_per_s").asDouble()).isPositive();
            assertThat(row.path("dedicated").path("loads").asInt()).isPositive();
        }
        // the plot of tokens/s against adapters, from the same file
        assertThat(GpuCheck.run(new String[] {"plot", "--in", dir.resolve("out/gpu-bench.json").toString(), "--out", dir.resolve("p.png").toString()}))
                .isZero();
        assertThat(javax.imageio.ImageIO.read(dir.resolve("p.png").toFile()).getWidth()).isEqualTo(900);
        assertThat(r.path("profile").path("decode_runs").asInt()).isEqualTo(8);
        assertThat(r.path("profile").path("nodes_per_run").asInt()).isPositive();
        assertThat(r.path("profile").path("top_ops").size()).isPositive();
    }

    /**
     * Item 1 on the CPU in fp32 (the fused graph): the sweep, the continuous stream, the fused vs
     * reference agreement, the LoRA-free engine, the eager profile; folded with a peers file into
     * the table, the ratios and the plot of tokens/s against batch.
     */
    @Test
    void theDecodeItemsRunOnTheFusedGraphAndFoldInThePeers(@TempDir Path dir) throws Exception {
        Path peers = dir.resolve("hf_peers.json");
        java.nio.file.Files.writeString(peers, """
                {"peers_version": 1, "device": "test", "versions": {"torch": "x"}, "bandwidth_gbps": 4000.0, "weight_bytes": 1000,
                 "results": [
                   {"peer": "hf_eager", "batch": 32, "ms_per_step": 10.0, "tok_s": 3200.0, "status": "ok"},
                   {"peer": "hf_static_compiled", "batch": 32, "ms_per_step": 4.0, "tok_s": 8000.0, "status": "ok"},
                   {"peer": "hf_static_compiled", "batch": 1, "ms_per_step": 3.0, "tok_s": 333.0, "status": "ok"},
                   {"peer": "peft_mixed", "batch": 32, "ms_per_step": 300.0, "tok_s": 106.0, "status": "ok"},
                   {"peer": "hf_static_compiled", "batch": 2, "ms_per_step": 3.0, "tok_s": 666.0, "status": "error"}],
                 "hbm_bound": [{"batch": 32, "ms_per_step": 0.6, "tok_s": 53000.0}, {"batch": 1, "ms_per_step": 0.6, "tok_s": 1600.0}]}
                """);
        int code = GpuCheck.run(new String[] {"bench", "--provider", "cpu", "--precision", "fp32", "--shape", "tiny", "--batch", "32", "--batches", "1,32",
                "--items", "1,agree,stream,nolora", "--prompt", "8", "--new-tokens", "4", "--repeats", "1", "--cold", "0", "--slots", "34",
                "--decode-stream-requests", "40", "--decode-stream-rounds", "1", "--profile-steps", "2", "--peers", peers.toString(),
                "--out", dir.resolve("out").toString(), "--work", dir.resolve("work").toString()});

        JsonNode r = GpuCheck.JSON.readTree(dir.resolve("out/gpu-bench.json").toFile());
        assertThat(r.path("errors").toString()).isEqualTo("[]");
        assertThat(code).isZero();
        assertThat(r.path("setup").path("graph").asText()).startsWith("fused graph");
        assertThat(r.path("fused_vs_reference_tokens").path("rows").asInt()).isEqualTo(32);
        assertThat(r.path("fused_vs_reference_tokens").path("token_agreement").asDouble()).as("fp32 on the CPU: the same greedy tokens").isEqualTo(1.0);
        assertThat(r.path("decode_stream").path("tokens_per_s").asDouble()).isPositive();
        assertThat(r.path("stream_vs_static_b32").asDouble()).isPositive();
        assertThat(r.path("decode_sweep_nolora").path("by_batch")).hasSize(2);
        JsonNode b32 = r.path("decode_table").get(1);
        assertThat(b32.path("batch").asInt()).isEqualTo(32);
        assertThat(b32.path("hf_static_compiled_tok_s").asDouble()).isEqualTo(8000.0);
        assertThat(b32.path("ours_nolora_tok_s").asDouble()).isPositive();
        assertThat(r.path("vs_hf_compiled_b32").asDouble()).isEqualTo(Math.round(b32.path("ours_backbone_tok_s").asDouble() / 8000.0 * 1e4) / 1e4);
        assertThat(r.path("vs_peft_mixed").isNumber()).isTrue();
        assertThat(r.path("multi_adapter_ratio").isNumber()).isTrue();
        assertThat(r.path("ms_per_step_b1").path("hf_static_compiled").asDouble()).isEqualTo(3.0);
        assertThat(r.path("decode_table").get(0).has("hf_static_compiled_ms_per_step")).as("an errored peer row is left out").isTrue();
        assertThat(r.path("profile").path("engine").asText()).startsWith("fused graph").doesNotContain("CUDA graphs");
        assertThat(GpuCheck.run(new String[] {"plot", "--kind", "batch", "--in", dir.resolve("out/gpu-bench.json").toString(), "--out", dir.resolve("d.png").toString()}))
                .isZero();
        assertThat(javax.imageio.ImageIO.read(dir.resolve("d.png").toFile()).getWidth()).isEqualTo(900);
    }

    @Test
    void theRandomBackboneIsAValidFloat16Checkpoint(@TempDir Path dir) throws Exception {
        Path b = GpuBench.writeBackbone(dir.resolve("b"), GpuBench.TINY, 3);
        ModelConfig c = ModelConfig.read(b);
        try (Checkpoint ckpt = Checkpoint.open(b)) {
            ckpt.validate(c);
            float[] embed = ckpt.read("model.embed_tokens.weight", c.vocabSize(), c.hiddenSize()).data();
            double sum = 0, sq = 0;
            for (float v : embed) {
                sum += v;
                sq += v * v;
            }
            double mean = sum / embed.length, std = Math.sqrt(sq / embed.length - mean * mean);
            assertThat(Math.abs(mean)).isLessThan(0.01);
            assertThat(std).isBetween(0.9 * 2 / Math.sqrt(64), 1.1 * 2 / Math.sqrt(64));
        }
        assertThat(GpuBench.shape(GpuBench.LLAMA_1B).get("parameters")).isEqualTo(1_235_814_400L);
    }

    /** Item 5 on the CPU: an in-process broker on localhost, a Worker on the engine, the same stream direct; no timing assertions. */
    @Test
    void theKafkaItemRunsThroughAnInProcessBroker(@TempDir Path dir) throws Exception {
        int code = GpuCheck.run(new String[] {"bench", "--provider", "cpu", "--precision", "fp16", "--shape", "tiny", "--batch", "4",
                "--items", "5", "--prompt", "8", "--new-tokens", "4", "--cold", "0", "--many", "12", "--slots", "8", "--host-slots", "8",
                "--kafka-requests", "12", "--kafka-partitions", "2", "--profile-steps", "0",
                "--out", dir.resolve("out").toString(), "--work", dir.resolve("work").toString()});

        JsonNode r = GpuCheck.JSON.readTree(dir.resolve("out/gpu-bench.json").toFile());
        assertThat(r.path("errors").toString()).isEqualTo("[]");
        assertThat(code).isZero();
        JsonNode k = r.path("kafka");
        assertThat(k.path("levels").path("saturated").path("kafka_runs").size()).isEqualTo(2);
        for (String level : new String[] {"saturated", "unsaturated", "transport"}) {
            assertThat(k.path("levels").path(level).path("kafka").path("errors").asInt()).as(level).isZero();
            assertThat(k.path("levels").path(level).path("overhead_p50_ms").isNumber()).as(level).isTrue();
        }
        assertThat(k.path("levels").path("transport").path("direct").path("tokens").asLong()).isEqualTo(2L * 8);
        assertThat(r.path("kafka_overhead_p50_ms_saturated").isNumber()).isTrue();
        assertThat(k.path("kafka").path("requests").asInt()).isEqualTo(24); // two rounds of 12
        assertThat(k.path("kafka").path("errors").asInt()).isZero();
        assertThat(k.path("kafka").path("tokens").asLong()).isEqualTo(24L * 4);
        assertThat(k.path("direct").path("tokens").asLong()).isEqualTo(24L * 4);
        assertThat(k.path("kafka").path("p50_ms").asDouble()).isPositive();
        assertThat(k.path("direct").path("p99_ms").asDouble()).isPositive();
        assertThat(r.path("kafka_overhead_p50_ms").isNumber()).isTrue();
        assertThat(k.path("kafka").path("worker_timings_first_pass").path("total_p50_ms").isNumber()).isTrue();
    }

    /**
     * The switching item on the CPU, tiny: two working-set sizes at two concurrencies (4 requests for 2 rows: some queue),
     * every cell with every tier's figures, the counts adding up to the requests, and the store tier's first token
     * behind the device tier's at concurrency 1 (its adapter is loaded first); no other timing assertions.
     */
    @Test
    void theSwitchingItemMeasuresEveryTierInEveryCell(@TempDir Path dir) throws Exception {
        int code = GpuCheck.run(new String[] {"bench", "--provider", "cpu", "--precision", "fp32", "--shape", "tiny", "--batch", "4", "--items", "switch",
                "--prompt", "8", "--new-tokens", "4", "--cold", "0", "--profile-steps", "0", "--switch-concurrency", "1,4", "--switch-adapters", "3,12",
                "--switch-new-tokens", "4", "--switch-min-requests", "16", "--switch-max-batch", "2", "--switch-slots", "16",
                "--out", dir.resolve("out").toString(), "--work", dir.resolve("work").toString()});

        JsonNode r = GpuCheck.JSON.readTree(dir.resolve("out/gpu-bench.json").toFile());
        assertThat(r.path("errors").toString()).isEqualTo("[]");
        assertThat(code).isZero();
        JsonNode s = r.path("switching");
        assertThat(s.path("setup").path("max_batch").asInt()).isEqualTo(2);
        JsonNode cells = s.path("cells");
        assertThat(cells).hasSize(4);
        java.util.Set<String> seen = new java.util.TreeSet<>();
        for (JsonNode c : cells) {
            int requests = c.path("requests").asInt();
            String name = c.path("adapters").asInt() + "x" + c.path("concurrency").asInt();
            seen.add(name);
            assertThat(requests).as(name).isEqualTo(16);
            long total = 0, intended = 0;
            for (String tier : new String[] {"device", "host", "store"}) {
                JsonNode t = c.path("tiers").path(tier);
                int count = t.path("count").asInt();
                total += count;
                intended += c.path("intended").path(tier).asLong();
                for (String k : new String[] {"ttft_p50_ms", "ttft_p99_ms", "itl_p50_ms", "itl_p99_ms"}) {
                    if (count == 0) assertThat(t.path(k).isNull()).as("%s %s %s", name, tier, k).isTrue();
                    else assertThat(t.path(k).asDouble(-1)).as("%s %s %s", name, tier, k).isGreaterThanOrEqualTo(0);
                }
                if (count > 0) assertThat(t.path("ttft_p99_ms").asDouble()).isGreaterThanOrEqualTo(t.path("ttft_p50_ms").asDouble());
                assertThat(t.path("itl_samples").asInt()).as("%s %s: 3 gaps per request", name, tier).isEqualTo(3 * count);
            }
            assertThat(total).as("%s: every request counted in one tier", name).isEqualTo(requests);
            assertThat(intended).isEqualTo(requests);
            assertThat(c.path("intended").path("device").asInt()).isEqualTo(8); // mix 2,1,1
            // the first request goes to the working set, all of it placed before the cell; every store-tier request is a fresh id
            assertThat(c.path("tiers").path("device").path("count").asInt()).as(name).isPositive();
            assertThat(c.path("tiers").path("store").path("count").asInt()).as(name).isGreaterThanOrEqualTo(4);
            assertThat(c.path("timeline").path("steps").asInt()).as("%s: 64 tokens, at most 2 rows a step", name).isGreaterThanOrEqualTo(32);
            assertThat(c.path("timeline").path("tokens_missing").asInt()).as(name).isZero();
            JsonNode cold = c.path("cold_delay");
            for (String k : new String[] {"store_join", "warm_join", "no_join", "store_pending", "no_store_pending"}) {
                assertThat(cold.has("others_itl_p50_ms_" + k + "_steps")).as(k).isTrue();
                assertThat(cold.path("steps_" + k).asInt(-1)).as(k).isGreaterThanOrEqualTo(0);
            }
            if (c.path("concurrency").asInt() == 1) {
                assertThat(c.path("tiers").path("store").path("ttft_p50_ms").asDouble())
                        .as("%s: a store-tier adapter is loaded before its first token", name)
                        .isGreaterThanOrEqualTo(c.path("tiers").path("device").path("ttft_p50_ms").asDouble());
            }
        }
        assertThat(seen).containsExactly("12x1", "12x4", "3x1", "3x4");
        assertThat(javax.imageio.ImageIO.read(dir.resolve("out/gpu-switch-ttft.png").toFile()).getWidth()).isEqualTo(900);
        assertThat(GpuCheck.run(new String[] {"plot", "--kind", "switch", "--metric", "itl_p99_ms", "--in", dir.resolve("out/gpu-bench.json").toString(),
                "--out", dir.resolve("s.png").toString()})).isZero();
        assertThat(javax.imageio.ImageIO.read(dir.resolve("s.png").toFile()).getWidth()).isEqualTo(900);
    }

    /** The sampling item on the CPU in fp32 (the fused graph): the sampling head chooses top-k tokens; the engine without it samples them all on the host. */
    @Test
    void theSamplingItemComparesTheSamplingHeadWithHostSampling(@TempDir Path dir) throws Exception {
        int code = GpuCheck.run(new String[] {"bench", "--provider", "cpu", "--precision", "fp32", "--shape", "tiny", "--batch", "4", "--items", "sample",
                "--prompt", "8", "--new-tokens", "6", "--repeats", "1", "--cold", "0", "--profile-steps", "0", "--out", dir.resolve("out").toString(),
                "--work", dir.resolve("work").toString()});
        JsonNode r = GpuCheck.JSON.readTree(dir.resolve("out/gpu-bench.json").toFile());
        assertThat(r.path("errors").toString()).isEqualTo("[]");
        assertThat(code).isZero();
        JsonNode s = r.path("sampling");
        long sampled = 4 * 6;
        assertThat(s.path("device_top_k50").path("samples_on_device").asLong()).as("top_k 50 lies within the candidates").isEqualTo(sampled);
        assertThat(s.path("host_top_k50").path("samples_on_host").asLong()).isEqualTo(sampled);
        assertThat(s.path("host_top_k50").path("samples_on_device").asLong()).isZero();
        assertThat(s.path("device_top_k50").path("decoding").path("top_k").asInt()).isEqualTo(50);
    }
}
