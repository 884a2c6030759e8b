package dev.lorastream.engine.scheduler;

/** Sees each row's next-token logits before a token is chosen (tests, debugging, log-probs later). */
@FunctionalInterface
public interface LogitsObserver {
    LogitsObserver NONE = (row, step, logits) -> {};

    /**
     * @param row    index of the task in the batch
     * @param step   0 for the logits after the prompt, n after the n-th generated token
     * @param logits [vocab]; do not keep a reference past the call
     */
    void onLogits(int row, int step, float[] logits);
}
