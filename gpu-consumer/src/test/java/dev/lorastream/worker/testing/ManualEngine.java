package dev.lorastream.worker.testing;

import dev.lorastream.engine.ContributorShare;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.ModelInfo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link FakeEngine} with its own {@link #submit}: each submitted task gets a future that the
 * test completes by hand ({@link #complete}, {@link #fail}), like rows of a continuous batcher
 * that finish in any order.
 */
public final class ManualEngine implements InferenceEngine {
    private final FakeEngine fake = new FakeEngine();
    private final List<String> submitted = new ArrayList<>();
    private final List<Integer> generated = new ArrayList<>();
    private final Map<String, CompletableFuture<Generation>> open = new LinkedHashMap<>();
    private final Map<String, GenerationTask> tasks = new LinkedHashMap<>();

    @Override
    public synchronized CompletableFuture<Generation> submit(GenerationTask task) {
        submitted.add(task.requestId());
        CompletableFuture<Generation> f = new CompletableFuture<>();
        open.put(task.requestId(), f);
        tasks.put(task.requestId(), task);
        return f;
    }

    /** Request ids in the order they were submitted, resubmissions included. */
    public synchronized List<String> submitted() { return List.copyOf(submitted); }

    /** The latest future handed out for the request. */
    public synchronized CompletableFuture<Generation> future(String requestId) { return open.get(requestId); }

    /** Completes the request's latest future with the fake engine's generation. */
    public synchronized void complete(String requestId) {
        open.get(requestId).complete(fake.generate(List.of(tasks.get(requestId))).getFirst());
    }

    /** Fails the request's latest future. */
    public synchronized void fail(String requestId) {
        open.get(requestId).completeExceptionally(new IllegalStateException("simulated row failure"));
    }

    /** How often generate was called (never, by a loop that uses submit). */
    public synchronized List<Integer> batchSizes() { return List.copyOf(generated); }

    @Override public ModelInfo model() { return fake.model(); }
    @Override public Set<String> adapterIds() { return fake.adapterIds(); }
    @Override public List<ContributorShare> contributors(String adapterId) { return fake.contributors(adapterId); }
    @Override public String adapterVersion(String adapterId) { return fake.adapterVersion(adapterId); }
    @Override public int[] encode(String text) { return fake.encode(text); }
    @Override public String decode(int[] tokenIds) { return fake.decode(tokenIds); }
    @Override public void validate(GenerationTask task) throws InvalidTaskException { fake.validate(task); }
    @Override
    public synchronized List<Generation> generate(List<GenerationTask> batch) {
        generated.add(batch.size());
        return fake.generate(batch);
    }
    @Override public void close() { fake.close(); }
}
