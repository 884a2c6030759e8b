package dev.lorastream.bench;

import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.scheduler.ContinuousBatcher;
import dev.lorastream.engine.onnx.OnnxLoraEngine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;

/**
 * A closed-loop request stream through the engine's continuous batcher: submits the tasks keeping
 * {@code inFlight} outstanding, waits for all, and returns what the stream did — tokens and wall time,
 * forward passes, and the deltas of the engine's own cache counters. Used by the CPU and GPU benchmarks.
 */
public final class ClosedLoop {
    /** What one stream did. */
    public record Outcome(int requests, int distinctAdapters, long tokens, double wallMs, long passes,
                          double forwardMs, double composeMs, CacheCounters cache) {
        public double tokensPerSecond() { return tokens / (wallMs / 1e3); }
    }

    private ClosedLoop() {}

    /** @throws IllegalStateException when a request fails or generates other than its max_new_tokens (EOS is ignored) */
    public static Outcome run(OnnxLoraEngine engine, List<GenerationTask> tasks, int inFlight) {
        CacheCounters before = CacheCounters.parse(engine.prometheusText());
        ContinuousBatcher.Stats stats = engine.status().scheduler();
        Semaphore permits = new Semaphore(inFlight);
        List<CompletableFuture<Generation>> futures = new ArrayList<>(tasks.size());
        long t0 = System.nanoTime();
        for (GenerationTask task : tasks) {
            permits.acquireUninterruptibly();
            CompletableFuture<Generation> f = engine.submit(task);
            f.whenComplete((g, e) -> permits.release());
            futures.add(f);
        }
        long tokens = 0;
        for (int i = 0; i < futures.size(); i++) {
            Generation g;
            try {
                g = futures.get(i).join();
            } catch (CompletionException e) {
                throw new IllegalStateException("request " + tasks.get(i).requestId() + " failed: " + e.getCause().getMessage(), e.getCause());
            }
            if (g.tokenIds().length != tasks.get(i).maxNewTokens()) {
                throw new IllegalStateException(g.requestId() + " generated " + g.tokenIds().length + " tokens, expected " + tasks.get(i).maxNewTokens());
            }
            tokens += g.tokenIds().length;
        }
        double wallMs = (System.nanoTime() - t0) / 1e6;
        CacheCounters delta = CacheCounters.parse(engine.prometheusText()).minus(before);
        ContinuousBatcher.Stats after = engine.status().scheduler();
        int distinct = (int) tasks.stream().map(GenerationTask::adapterId).distinct().count();
        return new Outcome(tasks.size(), distinct, tokens, wallMs, after.passes() - stats.passes(),
                (after.forwardNanos() - stats.forwardNanos()) / 1e6, (after.composeNanos() - stats.composeNanos()) / 1e6, delta);
    }
}
