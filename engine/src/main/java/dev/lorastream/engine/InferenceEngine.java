package dev.lorastream.engine;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * What the Kafka side of the worker needs from the model side: validation of one request,
 * tokenization, and generation for a batch whose rows may use different adapters.
 * Implementations are thread-confined to the worker's poll loop unless they say otherwise.
 */
public interface InferenceEngine extends AutoCloseable {

    /** Facts about the resident backbone. */
    ModelInfo model();

    /** Ids of the adapters this engine can serve (its adapter store's, whether loaded or not). */
    Set<String> adapterIds();

    /** Contributors (id and share) of an adapter, as its store describes them; empty when none. */
    List<ContributorShare> contributors(String adapterId);

    /** Version label of an adapter (content hash or declared version). */
    String adapterVersion(String adapterId);

    /** Prompt text to token ids (with BOS when the model uses one). */
    int[] encode(String text);

    /** Token ids to text. */
    String decode(int[] tokenIds);

    /**
     * Checks one task before it joins a batch: unknown adapter, empty or over-long prompt,
     * token ids out of the vocabulary, parameters out of range.
     *
     * @throws InvalidTaskException naming the field and the reason
     */
    void validate(GenerationTask task) throws InvalidTaskException;

    /** Generates for every task of the batch in shared forward passes; one result per task, same order. */
    List<Generation> generate(List<GenerationTask> batch);

    /**
     * Queues one task to join the running batch between forward passes (iteration-level
     * batching); the future completes with its generation, or exceptionally with an
     * {@link InvalidTaskException} or the failure that stopped it. Thread-safe where the engine
     * supports it. The default validates and generates the task alone on the calling thread.
     */
    default CompletableFuture<Generation> submit(GenerationTask task) {
        try {
            validate(task);
            return CompletableFuture.completedFuture(generate(List.of(task)).getFirst());
        } catch (InvalidTaskException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * {@link #submit(GenerationTask)}, telling {@code tokens} of each token as it is generated. The
     * default tells them all when the generation has finished (an engine without per-step access).
     */
    default CompletableFuture<Generation> submit(GenerationTask task, TokenListener tokens) {
        return submit(task).thenApply(g -> {
            try {
                int[] ids = g.tokenIds();
                for (int i = 0; i < ids.length; i++) tokens.onToken(i, ids[i]);
            } catch (RuntimeException e) {
                // the listener's failure is its own; the generation stands
            }
            return g;
        });
    }

    /**
     * Rescans the adapter store (an adapter added, replaced or removed there since): forgets copies
     * of adapters that left it or whose files changed, in every tier. Returns whether anything
     * changed; by default the engine has no store to rescan.
     */
    default boolean reloadAdapters() {
        return false;
    }

    /**
     * {@link #reloadAdapters} for one adapter (added, replaced or removed in the store): the others are
     * not looked at, so that one catalog record does not re-read every adapter's files.
     */
    default boolean reloadAdapter(String id) {
        return reloadAdapters();
    }

    /** Ids of the adapters held in a cache tier (device or host memory) now; by default all of {@link #adapterIds()}. */
    default Set<String> residentAdapterIds() {
        return adapterIds();
    }

    /**
     * Its load and room now, for placement and heartbeats; thread-safe. By default: nothing measured
     * (zeros), every adapter of {@link #adapterIds()} counted as in host memory.
     */
    default EngineLoad load() {
        return new EngineLoad(0, 0, 0, 0, 1, 0, 0, 0, 0, 0, new java.util.TreeSet<>(), new java.util.TreeSet<>(residentAdapterIds()), false);
    }

    /**
     * Forward passes run since the engine opened, each a batch of the rows running together (a prefill
     * of the requests joining, or a decode step of those generating); thread-safe. 0 for an engine that
     * does not count them (the worker then counts its {@link #generate} calls as its batches).
     */
    default long forwardPasses() {
        return 0;
    }

    /** The engine's metrics in the Prometheus text exposition format (0.0.4); empty when it keeps none. */
    default String prometheusText() {
        return "";
    }

    @Override
    void close();
}
