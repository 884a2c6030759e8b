package dev.lorastream.worker.internal;

import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.GenerationParams;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.config.ConfigChecks;
import dev.lorastream.schemas.topic.TopicDirectory;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.InvalidTaskException;

import java.util.List;

/**
 * Builds the engine's {@link GenerationTask} from a decoded request: the prompt text tokenized by
 * the engine (or the given prompt token ids), the generation parameters copied. Requests that
 * cannot become a task (no request id, no prompt, an illegal reply topic or one the cluster does not
 * have) fail with an {@link InvalidTaskException} naming the field; the engine's own checks come after.
 */
public final class TaskFactory {
    private final InferenceEngine engine;
    private final TopicDirectory topics;

    public TaskFactory(InferenceEngine engine, TopicDirectory topics) {
        this.engine = engine;
        this.topics = topics;
    }

    public GenerationTask create(InferenceRequest request) throws InvalidTaskException {
        if (request.getRequestId() == null || request.getRequestId().isBlank()) {
            throw new InvalidTaskException(ErrorCode.INVALID_REQUEST.name(), "request_id", "request_id is empty");
        }
        String replyTopic = request.getReplyTopic();
        if (replyTopic != null && !ConfigChecks.isTopicName(replyTopic)) {
            throw new InvalidTaskException(ErrorCode.INVALID_REQUEST.name(), "reply_topic",
                    "reply_topic '" + replyTopic + "' is not a legal Kafka topic name");
        }
        if (replyTopic != null && !topics.exists(replyTopic)) {
            throw new InvalidTaskException(ErrorCode.INVALID_REQUEST.name(), "reply_topic",
                    "reply_topic '" + replyTopic + "' does not exist on the cluster; create it, or leave reply_topic unset to be answered on "
                            + dev.lorastream.schemas.topic.Topics.RESPONSES);
        }
        GenerationParams p = request.getParams();
        if (p == null) throw new InvalidTaskException(ErrorCode.INVALID_REQUEST.name(), "params", "params are missing");
        return new GenerationTask(request.getRequestId(), request.getAdapterId(), promptIds(request),
                p.getMaxNewTokens(), p.getTemperature(), p.getTopP(), p.getTopK(), p.getSeed(), p.getIgnoreEos(),
                p.getLogprobs(), p.getPresencePenalty(), p.getFrequencyPenalty());
    }

    private int[] promptIds(InferenceRequest request) throws InvalidTaskException {
        if (request.getPrompt() != null) {
            try {
                return engine.encode(request.getPrompt());
            } catch (RuntimeException e) {
                throw new InvalidTaskException(ErrorCode.INVALID_REQUEST.name(), "prompt", "prompt cannot be tokenized: " + e.getMessage());
            }
        }
        List<Integer> ids = request.getPromptTokenIds();
        if (ids == null) {
            throw new InvalidTaskException(ErrorCode.INVALID_REQUEST.name(), "prompt", "neither prompt nor prompt_token_ids is set");
        }
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            Integer id = ids.get(i);
            if (id == null) throw new InvalidTaskException(ErrorCode.INVALID_REQUEST.name(), "prompt_token_ids", "token id " + i + " is null");
            out[i] = id;
        }
        return out;
    }
}
