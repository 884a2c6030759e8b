package dev.lorastream.worker.internal;

import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.ErrorInfo;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.Timings;
import dev.lorastream.schemas.topic.TopicDirectory;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.engine.Generation;
import dev.lorastream.schemas.TokenLogprob;
import dev.lorastream.schemas.TopLogprob;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/** Builds the {@link InferenceResponse} of a request: generated text, or an error with code, field and message. */
public final class ResponseFactory {
    private final String workerId;
    private final Clock clock;
    private final TopicDirectory topics;
    /** A token's text alone (the engine's tokenizer), for log-probabilities. */
    private final Function<int[], String> decoder;
    private final Pattern replyTopics;

    /** Tokens named by their ids in log-probabilities ({@code <id>}): for tests without a tokenizer. */
    public ResponseFactory(String workerId, Clock clock, TopicDirectory topics) {
        this(workerId, clock, topics, ids -> "<" + ids[0] + ">", Topics.DEFAULT_REPLY_PATTERN);
    }

    /** @param replyTopics the reply topics requests may name ({@code reply.topic.pattern}) */
    public ResponseFactory(String workerId, Clock clock, TopicDirectory topics, Function<int[], String> decoder, Pattern replyTopics) {
        this.workerId = workerId;
        this.clock = clock;
        this.topics = topics;
        this.decoder = decoder;
        this.replyTopics = replyTopics;
    }

    /**
     * Where the caller wants the answer: its reply topic, or inference.responses when it has none, or
     * one the router would have refused ({@link Topics#replyTopicProblem(String, Pattern)}: not a legal name, internal, another
     * pipeline topic whose schema refuses responses, outside the reply topic pattern) or that does not exist on the cluster.
     */
    public String topicFor(InferenceRequest request) {
        String reply = request.getReplyTopic();
        return reply == null || Topics.replyTopicProblem(reply, replyTopics).isPresent() || !topics.exists(reply) ? Topics.RESPONSES : reply;
    }

    /**
     * A served request.
     *
     * @param promptTokens how many prompt tokens the task had
     * @param text         the generated tokens decoded by the engine
     * @param startedAt    when the request's batch started (the end of its queueing)
     */
    public InferenceResponse ok(InferenceRequest request, int promptTokens, Generation generation, String text, Instant startedAt) {
        Instant now = clock.instant();
        long queueMs = Math.max(0, startedAt.toEpochMilli() - submittedMs(request, startedAt));
        long totalMs = Math.max(0, now.toEpochMilli() - submittedMs(request, startedAt));
        return InferenceResponse.newBuilder()
                .setRequestId(request.getRequestId())
                .setTenant(request.getTenant())
                .setAdapterId(request.getAdapterId())
                .setStatus(ResponseStatus.OK)
                .setText(text)
                .setTokenIds(boxed(generation.tokenIds()))
                .setPromptTokens(promptTokens)
                .setCompletionTokens(generation.tokenIds().length)
                .setFinishReason(generation.finishReason())
                .setError(null)
                .setTimings(new Timings(queueMs, generation.prefillMs(), generation.decodeMs(), totalMs))
                .setWorkerId(workerId)
                .setCompletedAtMs(now)
                .setAttributes(copy(request.getAttributes()))
                .setLogprobs(logprobs(generation))
                .build();
    }

    /** One entry per returned token (a stop sequence may have cut the tokens short), or null when none were asked for. */
    private List<TokenLogprob> logprobs(Generation g) {
        if (g.logprobs() == null) return null;
        List<TokenLogprob> out = new ArrayList<>();
        for (int i = 0; i < Math.min(g.logprobs().size(), g.tokenIds().length); i++) {
            dev.lorastream.engine.TokenLogprob lp = g.logprobs().get(i);
            List<TopLogprob> top = new ArrayList<>();
            for (int j = 0; j < lp.topIds().length; j++) top.add(new TopLogprob(lp.topIds()[j], token(lp.topIds()[j]), lp.topLogprobs()[j]));
            out.add(new TokenLogprob(lp.tokenId(), token(lp.tokenId()), lp.logprob(), top));
        }
        return out;
    }

    private String token(int id) { return decoder.apply(new int[] {id}); }

    /** A request answered with an error; {@code field} may be null. */
    public InferenceResponse error(InferenceRequest request, String code, String field, String message) {
        boolean tooLarge = ErrorCode.TOO_LARGE.name().equals(code); // the answer must fit where the request did not: no attributes echoed
        return InferenceResponse.newBuilder()
                .setRequestId(request.getRequestId())
                .setTenant(request.getTenant())
                .setAdapterId(request.getAdapterId())
                .setStatus(ResponseStatus.ERROR)
                .setError(new ErrorInfo(code, field, message == null ? code : message))
                .setWorkerId(workerId)
                .setCompletedAtMs(clock.instant())
                .setAttributes(tooLarge ? new HashMap<>() : copy(request.getAttributes()))
                .build();
    }

    private static long submittedMs(InferenceRequest request, Instant fallback) {
        return request.getSubmittedAtMs() == null ? fallback.toEpochMilli() : request.getSubmittedAtMs().toEpochMilli();
    }

    private static Map<String, String> copy(Map<String, String> attributes) {
        return attributes == null ? new HashMap<>() : new HashMap<>(attributes);
    }

    static List<Integer> boxed(int[] ids) {
        return java.util.Arrays.stream(ids).boxed().toList();
    }
}
