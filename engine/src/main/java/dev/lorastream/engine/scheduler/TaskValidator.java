package dev.lorastream.engine.scheduler;

import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InvalidTaskException;

/**
 * The checks a task passes before it joins a batch. Fields are named as in the Avro schema
 * (adapter_id, prompt, prompt_token_ids, params.max_new_tokens, ...).
 */
public final class TaskValidator {
    public static final String INVALID_REQUEST = "INVALID_REQUEST", UNKNOWN_ADAPTER = "UNKNOWN_ADAPTER",
            PROMPT_TOO_LONG = "PROMPT_TOO_LONG", BAD_PARAMETER = "BAD_PARAMETER", ADAPTER_LOAD_FAILED = "ADAPTER_LOAD_FAILED";

    /** Whether an adapter can be served; throws UNKNOWN_ADAPTER or ADAPTER_LOAD_FAILED (field adapter_id) when not. */
    @FunctionalInterface
    public interface AdapterCheck {
        void check(String adapterId) throws InvalidTaskException;
    }

    private final int vocabSize;
    private final int maxSequenceLength;
    private final int maxNewTokensLimit;
    private final AdapterCheck adapterCheck;

    public TaskValidator(int vocabSize, int maxSequenceLength, int maxNewTokensLimit, AdapterCheck adapterCheck) {
        this.vocabSize = vocabSize;
        this.maxSequenceLength = maxSequenceLength;
        this.maxNewTokensLimit = maxNewTokensLimit;
        this.adapterCheck = adapterCheck;
    }

    public void validate(GenerationTask t) throws InvalidTaskException {
        if (t.requestId() == null || t.requestId().isBlank()) throw new InvalidTaskException(INVALID_REQUEST, "request_id", "request_id is missing");
        if (t.adapterId() != null) adapterCheck.check(t.adapterId());
        int[] ids = t.promptIds();
        if (ids == null || ids.length == 0) throw new InvalidTaskException(INVALID_REQUEST, "prompt", "the prompt is empty");
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new InvalidTaskException(INVALID_REQUEST, "prompt_token_ids",
                        "token id " + ids[i] + " at position " + i + " is outside the vocabulary [0, " + vocabSize + ")");
            }
        }
        if (t.maxNewTokens() < 1 || t.maxNewTokens() > maxNewTokensLimit) {
            throw new InvalidTaskException(BAD_PARAMETER, "params.max_new_tokens",
                    "max_new_tokens " + t.maxNewTokens() + " is outside [1, " + maxNewTokensLimit + "]");
        }
        if (!(t.temperature() >= 0f && t.temperature() <= 2f)) {
            throw new InvalidTaskException(BAD_PARAMETER, "params.temperature", "temperature " + t.temperature() + " is outside [0, 2]");
        }
        if (!(t.topP() > 0f && t.topP() <= 1f)) {
            throw new InvalidTaskException(BAD_PARAMETER, "params.top_p", "top_p " + t.topP() + " is outside (0, 1]");
        }
        if (t.topK() < 0) throw new InvalidTaskException(BAD_PARAMETER, "params.top_k", "top_k " + t.topK() + " is negative (0 means no cut)");
        if (t.logprobs() < -1 || t.logprobs() > GenerationTask.MAX_LOGPROBS) {
            throw new InvalidTaskException(BAD_PARAMETER, "params.logprobs", "logprobs " + t.logprobs() + " is outside [0, " + GenerationTask.MAX_LOGPROBS
                    + "] (-1: none)");
        }
        if (!(t.presencePenalty() >= -2f && t.presencePenalty() <= 2f)) {
            throw new InvalidTaskException(BAD_PARAMETER, "params.presence_penalty", "presence_penalty " + t.presencePenalty() + " is outside [-2, 2]");
        }
        if (!(t.frequencyPenalty() >= -2f && t.frequencyPenalty() <= 2f)) {
            throw new InvalidTaskException(BAD_PARAMETER, "params.frequency_penalty", "frequency_penalty " + t.frequencyPenalty() + " is outside [-2, 2]");
        }
        if ((long) ids.length + t.maxNewTokens() > maxSequenceLength) {
            throw new InvalidTaskException(PROMPT_TOO_LONG, "prompt", "prompt of " + ids.length + " tokens plus max_new_tokens "
                    + t.maxNewTokens() + " exceeds the model's maximum sequence length of " + maxSequenceLength);
        }
    }
}
