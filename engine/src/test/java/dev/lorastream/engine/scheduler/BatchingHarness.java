package dev.lorastream.engine.scheduler;

import dev.lorastream.engine.onnx.OnnxLoraEngine;
import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.demo.RandomModels.BackboneSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

/**
 * Not a test: measures the continuous batcher on CPU against static batching (a batch runs until
 * its last row finishes) on one workload, and what rebuilding the KV cache when rows join or
 * leave costs next to the forward passes. Prints one table; checks both modes give the same tokens.
 *
 * <pre>java -cp target/test-classes:target/classes:$(cat cp.txt) dev.lorastream.engine.scheduler.BatchingHarness [requests [hidden [layers]]]</pre>
 */
public final class BatchingHarness {
    private static final int MAX_BATCH = 8;

    public static void main(String[] args) throws Exception {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 48;
        int hidden = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        int layers = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        Path dir = Files.createTempDirectory("lorastream-batching");
        BackboneSpec spec = new BackboneSpec("llama", "bench-llama", hidden, layers, hidden / 32, hidden / 64, hidden * 8 / 3, 1000, 512,
                10000.0, 1e-5, false, false, 1, 2);
        TestModels.Backbone b = TestModels.writeBackbone(dir.resolve("backbone"), spec, 1);
        Path adapters = dir.resolve("adapters");
        for (int i = 0; i < 8; i++) TestModels.writeAdapter(adapters, "a" + i, b, TestModels.lora(TestModels.ALL, 16, 16, false, b, 0.05), 100 + i);
        List<GenerationTask> tasks = workload(requests);
        long tokens = tasks.stream().mapToLong(GenerationTask::maxNewTokens).sum();

        try (OnnxLoraEngine engine = OnnxLoraEngine.open(new EngineConfig(b.dir(), adapters, "cpu", MAX_BATCH).withMaxLoraRank(16))) {
            run(engine, tasks.subList(0, Math.min(8, tasks.size())), false);
            Result stat = run(engine, tasks, false);
            Result cont = run(engine, tasks, true);
            for (int i = 0; i < tasks.size(); i++) {
                if (!Arrays.equals(stat.out.get(i).tokenIds(), cont.out.get(i).tokenIds())) throw new AssertionError("tokens differ for " + tasks.get(i).requestId());
            }
            System.out.printf("%d requests, %d generated tokens, max batch %d, backbone hidden %d x %d layers, 8 adapters rank 16%n",
                    tasks.size(), tokens, MAX_BATCH, spec.hidden(), spec.layers());
            System.out.printf("%-11s %9s %9s %8s %12s %10s %12s %9s%n", "mode", "wall ms", "tokens/s", "passes", "forward ms", "rebuilds", "rebuild ms", "rebuild%");
            print("static", stat, tokens);
            print("continuous", cont, tokens);
        }
    }

    private record Result(List<Generation> out, long wallNs, ContinuousBatcher.Stats stats) {}

    private static Result run(OnnxLoraEngine engine, List<GenerationTask> tasks, boolean continuous) {
        ContinuousBatcher.Stats before = engine.batcher().stats();
        long t0 = System.nanoTime();
        List<Generation> out = new ArrayList<>();
        int chunk = continuous ? tasks.size() : MAX_BATCH;
        for (int from = 0; from < tasks.size(); from += chunk) {
            List<CompletableFuture<Generation>> futures = new ArrayList<>();
            for (GenerationTask t : tasks.subList(from, Math.min(tasks.size(), from + chunk))) futures.add(engine.batcher().submit(t));
            engine.batcher().runUntilDone(futures);
            futures.forEach(f -> out.add(f.join()));
        }
        long wall = System.nanoTime() - t0;
        ContinuousBatcher.Stats after = engine.batcher().stats();
        return new Result(out, wall, after.since(before));
    }

    private static void print(String mode, Result r, long tokens) {
        ContinuousBatcher.Stats s = r.stats();
        System.out.printf("%-11s %9.0f %9.0f %8d %12.0f %10d %12.1f %8.1f%%%n", mode, r.wallNs() / 1e6, tokens / (r.wallNs() / 1e9), s.passes(),
                s.forwardNanos() / 1e6, s.composes(), s.composeNanos() / 1e6, 100.0 * s.composeNanos() / r.wallNs());
    }

    /** Prompts of 8..96 tokens, 8..48 new tokens each, adapters a0..a7 and the plain backbone. */
    private static List<GenerationTask> workload(int n) {
        Random r = new Random(7);
        List<GenerationTask> tasks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] prompt = new int[8 + r.nextInt(89)];
            prompt[0] = 1;
            for (int k = 1; k < prompt.length; k++) prompt[k] = 3 + r.nextInt(990);
            String adapter = i % 9 == 8 ? null : "a" + (i % 9);
            tasks.add(TestModels.greedy("r" + i, adapter, prompt, 8 + r.nextInt(41)));
        }
        return tasks;
    }
}
