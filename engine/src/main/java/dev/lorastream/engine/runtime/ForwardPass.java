package dev.lorastream.engine.runtime;

import java.util.List;

/**
 * One forward pass of the decoder over rows of a batch: what the scheduler needs from the
 * runtime, with no ONNX Runtime in sight. A row is a place for one sequence's keys and values
 * ({@code 0..maxRows()-1}, chosen by the scheduler); it holds at most {@link #capacity()} tokens.
 * Calls come from one thread at a time (the scheduler's), in this order for a row: one
 * {@link #prefill}, then {@link #decode}s, then {@link #release}.
 */
public interface ForwardPass extends AutoCloseable {
    /**
     * How a sampling row picks its next token: its temperature (above 0), top_p, top_k (0: no cut)
     * and the uniform draw {@code u} in [0, 1) its sampler made for this step. A pass whose graph
     * samples on the device uses them; any pass may leave the choice to the host instead.
     */
    record Sampling(float temperature, float topP, int topK, float u) {}

    /** A row of a pass: its place, and how its next token is picked (null: greedy). */
    sealed interface Row permits Prefill, Decode {
        int row();

        Sampling sampling();
    }

    /** A row joins: its prompt, the bank slot of its adapter (0: the plain backbone), its sampling (null: greedy). */
    record Prefill(int row, int[] prompt, int slot, Sampling sampling) implements Row {
        public Prefill(int row, int[] prompt, int slot) { this(row, prompt, slot, null); }
    }

    /** A running row's next step: its last token, the tokens already in its cache, its slot, its sampling (null: greedy). */
    record Decode(int row, int token, int cached, int slot, Sampling sampling) implements Row {
        public Decode(int row, int token, int cached, int slot) { this(row, token, cached, slot, null); }
    }

    /**
     * Per row, in the order asked: where {@code chosen[i]}, {@code tokens[i]} is the row's next token
     * (its greedy token, or for a sampling row the device's sample); otherwise the host samples from
     * {@code logits[i]} with the row's u. Logits are there for every row not chosen, and for all rows
     * when they were asked for (else null); {@code nanos}: the passes' time.
     */
    record Output(long[] tokens, boolean[] chosen, float[][] logits, long nanos) {}

    /** Work besides forward passes (rebuilding a batch cache, moving rows): how often and how long. */
    record Housekeeping(long count, long nanos) {}

    /** Rows one pass can hold. */
    int maxRows();

    /** Tokens one row can hold (prompt and generated). */
    int capacity();

    /** Fills the rows' caches with their prompts (in one or several passes); {@code withLogits}: every row's logits come back. */
    Output prefill(List<Prefill> rows, boolean withLogits);

    /** One token for each of the rows, each attending to its own cache only; {@code withLogits}: every row's logits come back. */
    Output decode(List<Decode> rows, boolean withLogits);

    /** Whether sampling rows get their tokens from the device (else the host samples every one from its logits). */
    default boolean samplesOnDevice() { return false; }

    /** Chosen flags for rows of which only the greedy ones are chosen: what a pass that leaves sampling to the host returns. */
    static boolean[] greedyChosen(List<? extends Row> rows) {
        boolean[] chosen = new boolean[rows.size()];
        for (int i = 0; i < rows.size(); i++) chosen[i] = rows.get(i).sampling() == null;
        return chosen;
    }

    /** Whether any of the rows samples. */
    static boolean anySamples(List<? extends Row> rows) {
        for (Row r : rows) if (r.sampling() != null) return true;
        return false;
    }

    /** The row's sequence left; its cache may be reused. */
    void release(int row);

    /** Called once on the thread that will make every later call, before the first; may prepare (capture) what needs that thread. */
    default void warmUp() {}

    /** Whether every call must come from the thread that called {@link #warmUp} (CUDA graphs live in per-thread state). */
    default boolean threadBound() { return false; }

    default Housekeeping housekeeping() { return new Housekeeping(0, 0); }

    /** One line for the start-up log: graph, cache, what runs eagerly and what is replayed. */
    String description();

    @Override
    void close();
}
