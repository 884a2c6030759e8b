package dev.lorastream.engine.scheduler;

import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.TokenListener;
import dev.lorastream.engine.TokenLogprob;
import dev.lorastream.engine.adapters.LoraAdapter;
import dev.lorastream.engine.runtime.ForwardPass;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** One request in the scheduler: its tokens so far, its place in the KV cache, its adapter slot and its timings. */
final class Sequence {
    /** Sees this sequence's logits before each token is chosen. */
    @FunctionalInterface
    public interface Observer {
        Observer NONE = (step, logits) -> {};

        void onLogits(int step, float[] logits);
    }

    final GenerationTask task;
    final Observer observer;
    /** Told of each token taken; NONE once it has thrown. */
    private TokenListener tokens;
    final CompletableFuture<Generation> result = new CompletableFuture<>();
    private final Sampler sampler;
    /** This step's draw (sampling rows). */
    private float draw;
    private final int[] out;
    /** Generated tokens so far and how often (penalised tasks). */
    private final Map<Integer, Integer> generatedCounts = new HashMap<>();
    private final List<TokenLogprob> logprobs = new ArrayList<>();
    private int count;
    private String finishReason;
    /** The host copy asked for when the adapter was not on the device; null until asked. */
    CompletableFuture<LoraAdapter> hostCopy;
    /** Its adapter's bank slot (0: the plain backbone) and whether it holds that slot in the cache. */
    int slot;
    /** Its row in the forward pass (-1: none). */
    int row = -1;
    boolean holdsSlot;
    /** Tokens of this sequence in the KV cache. */
    int kvLength;
    long prefillNs;
    long decodeNs;
    double computeNs;

    Sequence(GenerationTask task, Observer observer) {
        this(task, observer, TokenListener.NONE);
    }

    Sequence(GenerationTask task, Observer observer, TokenListener tokens) {
        this.task = task;
        this.observer = observer;
        this.tokens = tokens;
        this.sampler = new Sampler(task.temperature(), task.topP(), task.topK(), Sampler.seedFor(task.seed(), task.requestId()));
        this.out = new int[task.maxNewTokens()];
    }

    String adapterId() { return task.adapterId(); }

    int promptLength() { return task.promptIds().length; }

    /** The last generated token, the input of the next decode step. */
    int lastToken() { return out[count - 1]; }

    boolean finished() { return finishReason != null; }

    /** Whether somebody looks at the logits (an observer, log-probabilities, penalties): every step brings them back. */
    boolean observed() {
        return observer != Observer.NONE || task.needsLogits();
    }

    /** How the next step picks this row's token: null (greedy), or its parameters and a fresh draw of its sampler. */
    ForwardPass.Sampling sampling() {
        if (sampler.greedy()) return null;
        draw = sampler.draw();
        return new ForwardPass.Sampling(sampler.temperature(), sampler.topP(), sampler.topK(), draw);
    }

    /**
     * Takes row {@code i} of the pass: its token where the pass chose it, else the host's sample of
     * its logits at this step's draw; with penalties the host chooses from the penalised logits
     * (greedy or at the same draw), whatever the pass chose. Finishes at EOS (unless ignored) or at
     * max_new_tokens.
     */
    void accept(ForwardPass.Output out, int i, Set<Integer> eosIds) {
        float[] logits = out.logits() == null ? null : out.logits()[i];
        if (logits != null && observer != Observer.NONE) observer.onLogits(count, logits);
        if (task.needsLogits() && logits == null) throw new IllegalStateException("the pass did not bring row " + row + "'s logits");
        int token;
        if (task.penalised()) {
            float[] penalised = Penalties.apply(logits, generatedCounts, task.presencePenalty(), task.frequencyPenalty());
            token = sampler.greedy() ? Sampler.argmax(penalised) : sampler.sample(penalised, draw);
        } else if (out.chosen()[i]) {
            token = (int) out.tokens()[i];
        } else {
            if (logits == null) throw new IllegalStateException("the pass neither chose row " + row + "'s token nor brought its logits");
            token = sampler.sample(logits, draw);
        }
        take(token, eosIds, task.logprobs() >= 0 ? Logprobs.of(logits, token, task.logprobs()) : null);
    }

    private void take(int token, Set<Integer> eosIds, TokenLogprob logprob) {
        if (!task.ignoreEos() && eosIds.contains(token)) {
            finishReason = "eos";
            return;
        }
        out[count++] = token;
        if (task.penalised()) generatedCounts.merge(token, 1, Integer::sum);
        if (logprob != null) logprobs.add(logprob);
        if (tokens != TokenListener.NONE) {
            try {
                tokens.onToken(count - 1, token);
                if (tokens.stopHere()) {
                    finishReason = "stop";
                    return;
                }
            } catch (RuntimeException e) {
                tokens = TokenListener.NONE;
            }
        }
        if (count == task.maxNewTokens()) finishReason = "length";
    }

    Generation generation() {
        return new Generation(task.requestId(), Arrays.copyOf(out, count), finishReason, prefillNs / 1_000_000, decodeNs / 1_000_000, computeNs / 1e6,
                task.logprobs() >= 0 ? List.copyOf(logprobs.subList(0, Math.min(logprobs.size(), count))) : null);
    }
}
