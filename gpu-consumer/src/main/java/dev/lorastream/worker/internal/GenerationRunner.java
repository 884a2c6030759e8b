package dev.lorastream.worker.internal;

import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InferenceEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Runs one batch through the engine with bounded retries. A batch that still fails (throws, or
 * answers with the wrong rows) after the last attempt is reported as {@link Failed}, never thrown:
 * an engine failure must not take the worker down.
 */
public final class GenerationRunner {
    private static final Logger log = LoggerFactory.getLogger(GenerationRunner.class);

    private final InferenceEngine engine;
    private final int maxAttempts;
    private final Backoff backoff;

    public GenerationRunner(InferenceEngine engine, int maxAttempts, Backoff backoff) {
        this.engine = engine;
        this.maxAttempts = maxAttempts;
        this.backoff = backoff;
    }

    public int maxAttempts() { return maxAttempts; }

    /** The backoff whose pauses separate attempts. */
    public Backoff backoffDelays() { return backoff; }

    public sealed interface Result permits Generated, Failed {}

    /** One generation per task, in the tasks' order. */
    public record Generated(List<Generation> generations) implements Result {}

    public record Failed(RuntimeException cause, int attempts) implements Result {}

    public Result run(List<GenerationTask> batch) throws InterruptedException {
        backoff.reset();
        RuntimeException last = null;
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            try {
                List<Generation> out = engine.generate(batch);
                checkRows(batch, out);
                return new Generated(out);
            } catch (RuntimeException e) {
                last = e;
                log.warn("engine failed a batch of {} (attempt {}/{}): {}", batch.size(), attempt, maxAttempts, e.toString());
                if (attempt < maxAttempts) backoff.pause();
            }
        }
        return new Failed(last, maxAttempts);
    }

    private static void checkRows(List<GenerationTask> batch, List<Generation> out) {
        if (out == null || out.size() != batch.size()) {
            throw new IllegalStateException("engine returned " + (out == null ? "null" : out.size() + " results")
                    + " for a batch of " + batch.size());
        }
        for (int i = 0; i < batch.size(); i++) {
            Generation g = out.get(i);
            if (g == null || !batch.get(i).requestId().equals(g.requestId()) || g.tokenIds() == null) {
                throw new IllegalStateException("engine result " + i + " is not for request " + batch.get(i).requestId());
            }
        }
    }
}
