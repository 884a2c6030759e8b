package dev.lorastream.router;

import dev.lorastream.schemas.AdapterIds;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.StopSequences;
import dev.lorastream.schemas.GenerationParams;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.topic.TopicDirectory;
import dev.lorastream.schemas.topic.Topics;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Checks a decoded {@link InferenceRequest} against the router's rules and returns every
 * violation, each naming its field (snake_case Avro path) and the reason. An empty list means the
 * request may be routed. Whether the deadline has passed is not checked here: the worker does it
 * when the request is about to run; whether the request id was seen before is the router's dedupe
 * store's business ({@code internal.RequestIds}). The reply topic rule is {@link Topics#replyTopicProblem(String, Pattern)},
 * the one the worker applies too.
 */
public final class RequestValidator {
    public static final int MAX_REQUEST_ID_CHARS = 256;

    private final int maxPromptChars;
    private final int maxPromptTokenIds;
    private final int maxNewTokensLimit;
    private final TopicDirectory topics;
    private final Pattern replyTopics;

    public RequestValidator(int maxPromptChars, int maxPromptTokenIds, int maxNewTokensLimit) {
        this(maxPromptChars, maxPromptTokenIds, maxNewTokensLimit, TopicDirectory.TRUSTING);
    }

    /** @param topics which topics exist: a reply topic the cluster does not have is refused */
    public RequestValidator(int maxPromptChars, int maxPromptTokenIds, int maxNewTokensLimit, TopicDirectory topics) {
        this(maxPromptChars, maxPromptTokenIds, maxNewTokensLimit, topics, Topics.DEFAULT_REPLY_PATTERN);
    }

    /** @param replyTopics what a reply topic must match ({@link RouterConfig#REPLY_TOPIC_PATTERN}) */
    public RequestValidator(int maxPromptChars, int maxPromptTokenIds, int maxNewTokensLimit, TopicDirectory topics, Pattern replyTopics) {
        if (maxPromptChars < 1 || maxPromptTokenIds < 1 || maxNewTokensLimit < 1) {
            throw new IllegalArgumentException("limits must be positive: maxPromptChars=" + maxPromptChars
                    + ", maxPromptTokenIds=" + maxPromptTokenIds + ", maxNewTokensLimit=" + maxNewTokensLimit);
        }
        this.maxPromptChars = maxPromptChars;
        this.maxPromptTokenIds = maxPromptTokenIds;
        this.maxNewTokensLimit = maxNewTokensLimit;
        this.topics = topics;
        this.replyTopics = replyTopics;
    }

    public RequestValidator(RouterConfig config) { this(config, TopicDirectory.TRUSTING); }

    public RequestValidator(RouterConfig config, TopicDirectory topics) {
        this(config.maxPromptChars(), config.maxPromptTokenIds(), config.maxNewTokensLimit(), topics, config.replyTopicPattern());
    }

    public List<Violation> validate(InferenceRequest request) {
        List<Violation> out = new ArrayList<>();
        checkIdentity(request, out);
        checkPrompt(request, out);
        checkParams(request.getParams(), out);
        checkAdapter(request.getAdapterId(), out);
        Optional<String> replyProblem = Topics.replyTopicProblem(request.getReplyTopic(), replyTopics);
        replyProblem.ifPresent(reason -> out.add(new Violation("reply_topic", ErrorCode.INVALID_REQUEST, reason)));
        String reply = request.getReplyTopic();
        if (reply != null && replyProblem.isEmpty() && !topics.exists(reply)) {
            out.add(new Violation("reply_topic", ErrorCode.INVALID_REQUEST, "'" + reply + "' does not exist on the cluster; create it, "
                    + "or leave reply_topic unset to be answered on " + Topics.RESPONSES));
        }
        return List.copyOf(out);
    }

    private static void checkIdentity(InferenceRequest r, List<Violation> out) {
        String id = r.getRequestId();
        if (id == null) out.add(invalid("request_id", "is missing"));
        else if (id.isBlank()) out.add(invalid("request_id", "is blank"));
        else if (id.length() > MAX_REQUEST_ID_CHARS) {
            out.add(invalid("request_id", "is " + id.length() + " characters, more than the " + MAX_REQUEST_ID_CHARS + " allowed"));
        }
        String tenant = r.getTenant();
        if (tenant == null) out.add(invalid("tenant", "is missing"));
        else if (tenant.isBlank()) out.add(invalid("tenant", "is blank"));
    }

    private void checkPrompt(InferenceRequest r, List<Violation> out) {
        String prompt = r.getPrompt();
        List<Integer> ids = r.getPromptTokenIds();
        boolean hasText = prompt != null && !prompt.isEmpty();
        boolean hasIds = ids != null && !ids.isEmpty();
        if (hasText && hasIds) {
            out.add(invalid("prompt", "and prompt_token_ids are both given; exactly one of them may be"));
        } else if (!hasText && !hasIds) {
            boolean blameIds = prompt == null && ids != null;
            String field = blameIds ? "prompt_token_ids" : "prompt";
            String other = blameIds ? "prompt" : "prompt_token_ids";
            String reason = (blameIds ? "is empty" : presence(prompt)) + " and " + other + " "
                    + (blameIds ? "is missing" : presence(ids)) + "; exactly one of them must be non-empty";
            out.add(invalid(field, reason));
        }
        if (hasText && prompt.length() > maxPromptChars) {
            int chars = prompt.codePointCount(0, prompt.length());
            if (chars > maxPromptChars) {
                out.add(invalid("prompt", "is " + chars + " characters, more than the " + maxPromptChars + " allowed"));
            }
        }
        if (hasIds) {
            if (ids.size() > maxPromptTokenIds) {
                out.add(invalid("prompt_token_ids", "has " + ids.size() + " ids, more than the " + maxPromptTokenIds + " allowed"));
            }
            for (int i = 0; i < ids.size(); i++) {
                Integer id = ids.get(i);
                if (id == null || id < 0) {
                    out.add(invalid("prompt_token_ids", "id at index " + i + " is " + id + "; token ids must be >= 0"));
                    break;
                }
            }
        }
    }

    private void checkParams(GenerationParams p, List<Violation> out) {
        if (p == null) {
            out.add(new Violation("params", ErrorCode.BAD_PARAMETER, "is missing"));
            return;
        }
        if (p.getMaxNewTokens() < 1 || p.getMaxNewTokens() > maxNewTokensLimit) {
            out.add(bad("params.max_new_tokens", "is " + p.getMaxNewTokens() + "; it must be between 1 and " + maxNewTokensLimit));
        }
        float t = p.getTemperature();
        if (!(t >= 0f && t <= 2f)) out.add(bad("params.temperature", "is " + t + "; it must be between 0 and 2"));
        float topP = p.getTopP();
        if (!(topP > 0f && topP <= 1f)) out.add(bad("params.top_p", "is " + topP + "; it must be greater than 0 and at most 1"));
        if (p.getTopK() < 0) out.add(bad("params.top_k", "is " + p.getTopK() + "; it must be >= 0 (0 means no top-k cut)"));
        StopSequences.problem(p.getStop()).ifPresent(why -> out.add(bad("params.stop", why)));
        if (p.getLogprobs() < -1 || p.getLogprobs() > 5) out.add(bad("params.logprobs", "is " + p.getLogprobs() + "; it must be between 0 and 5, or -1 for none"));
        float presence = p.getPresencePenalty(), frequency = p.getFrequencyPenalty();
        if (!(presence >= -2f && presence <= 2f)) out.add(bad("params.presence_penalty", "is " + presence + "; it must be between -2 and 2"));
        if (!(frequency >= -2f && frequency <= 2f)) out.add(bad("params.frequency_penalty", "is " + frequency + "; it must be between -2 and 2"));
    }

    private static void checkAdapter(String adapterId, List<Violation> out) {
        if (adapterId == null) return; // the plain backbone
        AdapterIds.problem(adapterId).ifPresent(why -> out.add(invalid("adapter_id", why + "; leave adapter_id null to use the plain backbone")));
    }

    private static String presence(Object value) { return value == null ? "is missing" : "is empty"; }

    private static Violation invalid(String field, String reason) { return new Violation(field, ErrorCode.INVALID_REQUEST, reason); }

    private static Violation bad(String field, String reason) { return new Violation(field, ErrorCode.BAD_PARAMETER, reason); }

    private static String abbreviate(String s) { return s.length() <= 64 ? s : s.substring(0, 61) + "..."; }
}
