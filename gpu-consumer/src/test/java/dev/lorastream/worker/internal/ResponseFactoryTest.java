package dev.lorastream.worker.internal;

import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.Timings;
import dev.lorastream.schemas.topic.TopicDirectory;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.engine.Generation;
import dev.lorastream.worker.testing.Requests;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ResponseFactoryTest {
    private static final Instant SUBMITTED = Instant.parse("2026-01-01T00:00:00Z");
    private static final Instant NOW = SUBMITTED.plusMillis(900);
    private final ResponseFactory responses = new ResponseFactory("worker-7", Clock.fixed(NOW, ZoneOffset.UTC),
            new TopicDirectory(topic -> !topic.equals("gone.replies"), Clock.systemUTC(), () -> { }));

    @Test
    void aServedRequestGetsTextTokensCountsFinishReasonTimingsAndItsAttributes() {
        InferenceRequest request = Requests.request("r-1", "dermatology", "dry skin").build();
        Generation g = new Generation("r-1", new int[]{5, 6, 7}, "eos", 40, 60, 12.5);

        InferenceResponse r = responses.ok(request, 9, g, "fgh", SUBMITTED.plusMillis(300));

        assertThat(r.getRequestId()).isEqualTo("r-1");
        assertThat(r.getTenant()).isEqualTo("tenant-1");
        assertThat(r.getAdapterId()).isEqualTo("dermatology");
        assertThat(r.getStatus()).isEqualTo(ResponseStatus.OK);
        assertThat(r.getText()).isEqualTo("fgh");
        assertThat(r.getTokenIds()).containsExactly(5, 6, 7);
        assertThat(r.getPromptTokens()).isEqualTo(9);
        assertThat(r.getCompletionTokens()).isEqualTo(3);
        assertThat(r.getFinishReason()).isEqualTo("eos");
        assertThat(r.getError()).isNull();
        assertThat(r.getTimings()).isEqualTo(new Timings(300L, 40L, 60L, 900L));
        assertThat(r.getWorkerId()).isEqualTo("worker-7");
        assertThat(r.getCompletedAtMs()).isEqualTo(NOW);
        assertThat(r.getAttributes()).isEqualTo(Map.of("trace", "t-r-1"));
    }

    @Test
    void logprobsAreGivenPerReturnedTokenWithTheirTextAndAlternatives() {
        InferenceRequest request = Requests.request("r-3", null, "x").build();
        ResponseFactory decoding = new ResponseFactory("w", Clock.fixed(NOW, ZoneOffset.UTC), TopicDirectory.TRUSTING, ids -> "t" + ids[0],
                Topics.DEFAULT_REPLY_PATTERN);
        var lp = List.of(new dev.lorastream.engine.TokenLogprob(5, -0.25f, new int[]{5, 9}, new float[]{-0.25f, -1.5f}),
                new dev.lorastream.engine.TokenLogprob(6, -2f, new int[]{1, 6}, new float[]{-0.5f, -2f}),
                new dev.lorastream.engine.TokenLogprob(7, -3f, new int[]{7, 1}, new float[]{-0.1f, -3f}));
        Generation cut = new Generation("r-3", new int[]{5, 6}, "stop", 1, 1, 1, lp); // a stop sequence cut the third token

        InferenceResponse r = decoding.ok(request, 1, cut, "t5t6", SUBMITTED);

        assertThat(r.getLogprobs()).hasSize(2);
        assertThat(r.getLogprobs().get(1).getToken()).isEqualTo("t6");
        assertThat(r.getLogprobs().get(1).getLogprob()).isEqualTo(-2f);
        assertThat(r.getLogprobs().get(1).getTop()).extracting(t -> t.getToken()).containsExactly("t1", "t6");
        assertThat(responses.ok(request, 1, new Generation("r-3", new int[]{5}, "eos", 1, 1, 1), "t5", SUBMITTED).getLogprobs())
                .as("none asked for").isNull();
    }

    @Test
    void anErrorNamesCodeFieldAndMessageAndKeepsTheAttributes() {
        InferenceRequest request = Requests.request("r-2", "radiology", "x").build();

        InferenceResponse r = responses.error(request, "UNKNOWN_ADAPTER", "adapter_id", "adapter 'radiology' is not known");

        assertThat(r.getStatus()).isEqualTo(ResponseStatus.ERROR);
        assertThat(r.getError().getCode()).isEqualTo("UNKNOWN_ADAPTER");
        assertThat(r.getError().getField()).isEqualTo("adapter_id");
        assertThat(r.getError().getMessage()).contains("radiology");
        assertThat(r.getText()).isNull();
        assertThat(r.getTokenIds()).isEmpty();
        assertThat(r.getAttributes()).containsEntry("trace", "t-r-2");
        assertThat(r.getWorkerId()).isEqualTo("worker-7");
    }

    @Test
    void theAnswerGoesToTheReplyTopicWhenThereIsALegalOneTheClusterHas() {
        assertThat(responses.topicFor(Requests.request("a", null, "x").build())).isEqualTo(Topics.RESPONSES);
        assertThat(responses.topicFor(Requests.request("a", null, "x").setReplyTopic("inference.responses.my").build())).isEqualTo("inference.responses.my");
        assertThat(responses.topicFor(Requests.request("a", null, "x").setReplyTopic("bad topic!").build())).isEqualTo(Topics.RESPONSES);
        assertThat(responses.topicFor(Requests.request("a", null, "x").setReplyTopic("gone.replies").build())).isEqualTo(Topics.RESPONSES);
        assertThat(responses.topicFor(Requests.request("a", null, "x").setReplyTopic("my.replies").build()))
                .as("a topic the router's pattern refuses").isEqualTo(Topics.RESPONSES);
    }

    @Test
    void theReplyTopicPatternIsTheWorkersSetting() {
        ResponseFactory own = new ResponseFactory("w", Clock.fixed(NOW, ZoneOffset.UTC), TopicDirectory.TRUSTING, ids -> "t",
                dev.lorastream.worker.WorkerConfig.from(java.util.Map.of("bootstrap.servers", "b:9092", "schema.registry.url", "http://r:8081",
                        "engine", "sim", "reply.topic.pattern", "replies\\..+")).replyTopicPattern());

        assertThat(own.topicFor(Requests.request("a", null, "x").setReplyTopic("replies.app").build())).isEqualTo("replies.app");
        assertThat(own.topicFor(Requests.request("a", null, "x").setReplyTopic("inference.responses.my").build())).isEqualTo(Topics.RESPONSES);
    }

    @Test
    void queueAndTotalTimesNeverGoNegativeUnderClockSkew() {
        InferenceRequest fromTheFuture = Requests.request("r-3", null, "x").setSubmittedAtMs(NOW.plusSeconds(60)).build();

        InferenceResponse r = responses.ok(fromTheFuture, 2, new Generation("r-3", new int[]{1}, "length", 1, 1, 1), "b", NOW);

        assertThat(List.of(r.getTimings().getQueueMs(), r.getTimings().getTotalMs())).containsOnly(0L);
    }
}
