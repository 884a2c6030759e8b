package dev.lorastream.bench;

import dev.lorastream.engine.GenerationTask;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** The benchmark's requests: greedy, EOS ignored (every request generates exactly its max new tokens), seeded. */
public final class Workloads {
    private Workloads() {}

    /** One batch: row {@code i} on {@code adapters.get(i)} (null: the plain backbone), the same prompts whatever the adapters. */
    public static List<GenerationTask> batch(BenchPlan plan, List<String> adapters, String label) {
        Random r = new Random(plan.seed() ^ 0xBA7C4L);
        List<GenerationTask> tasks = new ArrayList<>(adapters.size());
        for (int i = 0; i < adapters.size(); i++) {
            tasks.add(task(label + "-" + i, adapters.get(i), prompt(r, plan.batchPromptTokens(), plan.backbone().vocab()), plan.batchNewTokens()));
        }
        return tasks;
    }

    /**
     * A stream of requests: prompt lengths and new tokens uniform in the plan's ranges, adapter
     * {@code ids.get(order[zipf rank])}. Two streams with the same seed have the same prompts and
     * lengths in the same order, whatever their adapters.
     *
     * @param order popularity rank to index into {@code ids}
     */
    public static List<GenerationTask> stream(BenchPlan plan, int requests, long seed, List<String> ids, int[] order, String label) {
        Random r = new Random(seed);
        ZipfSampler zipf = new ZipfSampler(ids.size(), plan.zipfExponent(), seed * 31 + 7);
        List<GenerationTask> tasks = new ArrayList<>(requests);
        for (int i = 0; i < requests; i++) {
            int promptLength = between(r, plan.minPromptTokens(), plan.maxPromptTokens());
            int newTokens = between(r, plan.minNewTokens(), plan.maxNewTokens());
            int[] prompt = prompt(r, promptLength, plan.backbone().vocab());
            tasks.add(task(label + "-" + i, ids.get(order[zipf.next()]), prompt, newTokens));
        }
        return tasks;
    }

    /** A seeded permutation: which adapter has which popularity rank, so rank does not follow id order (the engine warms its host tier in id order). */
    public static int[] popularityOrder(int n, long seed) {
        List<Integer> idx = new ArrayList<>(n);
        for (int i = 0; i < n; i++) idx.add(i);
        Collections.shuffle(idx, new Random(seed));
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Rank {@code k} is adapter {@code k}. */
    public static int[] identityOrder(int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        return order;
    }

    public static long generatedTokens(List<GenerationTask> tasks) {
        return tasks.stream().mapToLong(GenerationTask::maxNewTokens).sum();
    }

    private static GenerationTask task(String id, String adapter, int[] prompt, int newTokens) {
        return new GenerationTask(id, adapter, prompt, newTokens, 0f, 1f, 0, null, true);
    }

    /** BOS, then tokens clear of the special ids 0..2. */
    private static int[] prompt(Random r, int length, int vocab) {
        int[] p = new int[length];
        p[0] = 1;
        for (int k = 1; k < length; k++) p[k] = 3 + r.nextInt(vocab - 3);
        return p;
    }

    private static int between(Random r, int min, int max) { return min + r.nextInt(max - min + 1); }
}
