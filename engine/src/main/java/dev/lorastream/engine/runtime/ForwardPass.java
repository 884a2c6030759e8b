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
    /** A row joins: its prompt, and the bank slot of its adapter (0: the plain backbone). */
    record Prefill(int row, int[] prompt, int slot) {}

    /** A running row's next step: its last token, the tokens already in its cache, its slot. */
    record Decode(int row, int token, int cached, int slot) {}

    /**
     * Per row, in the order asked: the greedy next token, and its logits when they were asked for
     * (else null); {@code nanos}: the passes' time.
     */
    record Output(long[] tokens, float[][] logits, long nanos) {}

    /** Work besides forward passes (rebuilding a batch cache, moving rows): how often and how long. */
    record Housekeeping(long count, long nanos) {}

    /** Rows one pass can hold. */
    int maxRows();

    /** Tokens one row can hold (prompt and generated). */
    int capacity();

    /** Fills the rows' caches with their prompts (in one or several passes). */
    Output prefill(List<Prefill> rows, boolean withLogits);

    /** One token for each of the rows, each attending to its own cache only. */
    Output decode(List<Decode> rows, boolean withLogits);

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
