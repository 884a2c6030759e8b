package dev.lorastream.worker.testing;

import dev.lorastream.engine.ContributorShare;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.ModelInfo;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A real engine that takes at least a given time per batch, so that a test can stop a worker in
 * the middle of a run however fast the demo model is. Does not close the engine it wraps.
 */
public final class ThrottledEngine implements InferenceEngine {
    private final InferenceEngine engine;
    private final Duration perBatch;

    public ThrottledEngine(InferenceEngine engine, Duration perBatch) {
        this.engine = engine;
        this.perBatch = perBatch;
    }

    @Override public ModelInfo model() { return engine.model(); }
    @Override public Set<String> adapterIds() { return engine.adapterIds(); }
    @Override public List<ContributorShare> contributors(String adapterId) { return engine.contributors(adapterId); }
    @Override public String adapterVersion(String adapterId) { return engine.adapterVersion(adapterId); }
    @Override public int[] encode(String text) { return engine.encode(text); }
    @Override public String decode(int[] tokenIds) { return engine.decode(tokenIds); }
    @Override public void validate(GenerationTask task) throws InvalidTaskException { engine.validate(task); }

    @Override
    public List<Generation> generate(List<GenerationTask> batch) {
        long until = System.nanoTime() + perBatch.toNanos();
        List<Generation> out = engine.generate(batch);
        long left = until - System.nanoTime();
        if (left > 0) {
            try {
                Thread.sleep(Duration.ofNanos(left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        return out;
    }

    @Override
    public void close() { }
}
