package dev.lorastream.worker.testing;

import dev.lorastream.engine.ContributorShare;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.ModelInfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A small deterministic {@link InferenceEngine} for broker-free tests of the Kafka side: adapters
 * {@code dermatology} and {@code cardiology}, characters as tokens, generation that can be told to fail.
 */
public final class FakeEngine implements InferenceEngine {
    public static final ModelInfo MODEL = new ModelInfo("fake-llama", 64, 1000, 2, "CPU");
    public static final Map<String, List<ContributorShare>> CONTRIBUTORS = Map.of(
            "dermatology", List.of(new ContributorShare("clinic-a", 0.75), new ContributorShare("clinic-b", 0.25)),
            "cardiology", List.of(new ContributorShare("hospital-c", 1.0)));

    private final List<Integer> batchSizes = new ArrayList<>();
    private int failuresLeft;
    private boolean closed;

    /** The next {@code n} calls of generate throw. */
    public synchronized FakeEngine failNext(int n) {
        failuresLeft = n;
        return this;
    }

    /** Sizes of the batches generate was called with, failed calls included. */
    public synchronized List<Integer> batchSizes() { return List.copyOf(batchSizes); }

    public synchronized boolean closed() { return closed; }

    @Override public ModelInfo model() { return MODEL; }

    @Override public Set<String> adapterIds() { return CONTRIBUTORS.keySet(); }

    @Override public List<ContributorShare> contributors(String adapterId) { return CONTRIBUTORS.getOrDefault(adapterId, List.of()); }

    @Override public String adapterVersion(String adapterId) { return adapterId + "-v1"; }

    @Override
    public int[] encode(String text) {
        int[] ids = new int[text.length() + 1];
        ids[0] = 1;
        for (int i = 0; i < text.length(); i++) ids[i + 1] = 3 + text.charAt(i) % 900;
        return ids;
    }

    @Override
    public String decode(int[] tokenIds) {
        StringBuilder sb = new StringBuilder();
        for (int id : tokenIds) sb.append((char) ('a' + id % 26));
        return sb.toString();
    }

    @Override
    public void validate(GenerationTask task) throws InvalidTaskException {
        if (task.adapterId() != null && !CONTRIBUTORS.containsKey(task.adapterId())) {
            throw new InvalidTaskException("UNKNOWN_ADAPTER", "adapter_id", "adapter '" + task.adapterId() + "' is not known");
        }
        if (task.promptIds().length == 0) throw new InvalidTaskException("INVALID_REQUEST", "prompt", "prompt is empty");
        for (int id : task.promptIds()) {
            if (id < 0 || id >= MODEL.vocabSize()) {
                throw new InvalidTaskException("INVALID_REQUEST", "prompt_token_ids", "token id " + id + " is outside the vocabulary");
            }
        }
        if (task.maxNewTokens() < 1) throw new InvalidTaskException("BAD_PARAMETER", "max_new_tokens", "max_new_tokens must be at least 1");
        if (task.promptIds().length + task.maxNewTokens() > MODEL.maxSequenceLength()) {
            throw new InvalidTaskException("PROMPT_TOO_LONG", "prompt", "prompt + max_new_tokens exceeds " + MODEL.maxSequenceLength());
        }
    }

    @Override
    public synchronized List<Generation> generate(List<GenerationTask> batch) {
        batchSizes.add(batch.size());
        if (failuresLeft > 0) {
            failuresLeft--;
            throw new IllegalStateException("simulated engine failure");
        }
        List<Generation> out = new ArrayList<>();
        for (GenerationTask t : batch) {
            int[] ids = new int[t.maxNewTokens()];
            int seed = t.promptIds()[t.promptIds().length - 1] + (t.adapterId() == null ? 0 : t.adapterId().length());
            for (int i = 0; i < ids.length; i++) ids[i] = 3 + (seed + i) % 900;
            out.add(new Generation(t.requestId(), ids, "length", 1, 2, 1.5));
        }
        return out;
    }

    @Override
    public synchronized void close() { closed = true; }
}
