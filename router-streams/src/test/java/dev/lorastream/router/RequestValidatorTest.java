package dev.lorastream.router;

import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.topic.Topics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RequestValidatorTest {
    private final RequestValidator validator = new RequestValidator(100, 10, 64);

    private List<Violation> validate(InferenceRequest.Builder request) { return validator.validate(request.build()); }

    private static InferenceRequest.Builder valid() { return Requests.valid("req-1", "dermatology"); }

    @Test
    void aValidTextRequestHasNoViolations() {
        assertThat(validate(valid())).isEmpty();
    }

    @Test
    void aValidTokenIdRequestForTheBackboneHasNoViolations() {
        assertThat(validate(valid().setAdapterId(null).setPrompt(null).setPromptTokenIds(List.of(0, 1, 2)))).isEmpty();
    }

    @Test
    void upToFourNonEmptyStopSequencesAreAcceptedAndMoreOrEmptyOnesRefused() {
        InferenceRequest four = valid().build();
        four.getParams().setStop(List.of("a", "b", "c", "d"));
        assertThat(validator.validate(four)).isEmpty();
        InferenceRequest five = valid().build();
        five.getParams().setStop(List.of("a", "b", "c", "d", "e"));
        assertThat(validator.validate(five)).singleElement()
                .satisfies(v -> assertViolation(v, "params.stop", ErrorCode.BAD_PARAMETER, "at most 4"));
        InferenceRequest empty = valid().build();
        empty.getParams().setStop(List.of(""));
        assertThat(validator.validate(empty)).singleElement()
                .satisfies(v -> assertViolation(v, "params.stop", ErrorCode.BAD_PARAMETER, "empty"));
    }

    @Test
    void aDeadlineInThePastIsLeftToTheWorker() {
        assertThat(validate(valid().setDeadlineMs(Instant.ofEpochMilli(1)))).isEmpty();
    }

    @Test
    void aMissingRequestIdIsRefused() {
        InferenceRequest request = valid().build();
        request.setRequestId(null);
        assertThat(validator.validate(request)).singleElement()
                .satisfies(v -> assertViolation(v, "request_id", ErrorCode.INVALID_REQUEST, "missing"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   "})
    void aBlankRequestIdIsRefused(String id) {
        assertThat(validate(valid().setRequestId(id))).singleElement()
                .satisfies(v -> assertViolation(v, "request_id", ErrorCode.INVALID_REQUEST, "blank"));
    }

    @Test
    void aRequestIdOf256CharactersIsAcceptedAnd257IsRefused() {
        assertThat(validate(valid().setRequestId("r".repeat(256)))).isEmpty();
        assertThat(validate(valid().setRequestId("r".repeat(257)))).singleElement()
                .satisfies(v -> assertViolation(v, "request_id", ErrorCode.INVALID_REQUEST, "257 characters"));
    }

    @Test
    void aBlankTenantIsRefused() {
        assertThat(validate(valid().setTenant(" "))).singleElement()
                .satisfies(v -> assertViolation(v, "tenant", ErrorCode.INVALID_REQUEST, "blank"));
    }

    @Test
    void anEmptyPromptIsRefused() {
        assertThat(validate(valid().setPrompt(""))).singleElement()
                .satisfies(v -> assertViolation(v, "prompt", ErrorCode.INVALID_REQUEST, "is empty and prompt_token_ids is missing"));
    }

    @Test
    void anEmptyTokenIdListWithoutPromptIsRefused() {
        assertThat(validate(valid().setPrompt(null).setPromptTokenIds(Collections.emptyList()))).singleElement()
                .satisfies(v -> assertViolation(v, "prompt_token_ids", ErrorCode.INVALID_REQUEST, "is empty and prompt is missing"));
    }

    @Test
    void anEmptyPromptAndAnEmptyTokenIdListAreRefused() {
        assertThat(validate(valid().setPrompt("").setPromptTokenIds(List.of()))).singleElement()
                .satisfies(v -> assertViolation(v, "prompt", ErrorCode.INVALID_REQUEST, "is empty and prompt_token_ids is empty"));
    }

    @Test
    void neitherPromptNorTokenIdsIsRefused() {
        assertThat(validate(valid().setPrompt(null).setPromptTokenIds(null))).singleElement()
                .satisfies(v -> assertViolation(v, "prompt", ErrorCode.INVALID_REQUEST, "is missing and prompt_token_ids is missing"));
    }

    @Test
    void bothPromptAndTokenIdsAreRefused() {
        assertThat(validate(valid().setPromptTokenIds(List.of(1, 2)))).singleElement()
                .satisfies(v -> assertViolation(v, "prompt", ErrorCode.INVALID_REQUEST, "both given"));
    }

    @Test
    void aPromptAtTheLimitIsAcceptedAndOneCharacterMoreIsRefused() {
        assertThat(validate(valid().setPrompt("x".repeat(100)))).isEmpty();
        assertThat(validate(valid().setPrompt("x".repeat(101)))).singleElement()
                .satisfies(v -> assertViolation(v, "prompt", ErrorCode.INVALID_REQUEST, "101 characters, more than the 100"));
    }

    @Test
    void promptLengthCountsCodePointsNotUtf16Units() {
        String hundredEmoji = "\uD83D\uDE00".repeat(100); // 100 code points, 200 chars
        assertThat(validate(valid().setPrompt(hundredEmoji))).isEmpty();
    }

    @Test
    void aNegativeTokenIdIsRefusedWithItsIndex() {
        assertThat(validate(valid().setPrompt(null).setPromptTokenIds(List.of(5, -3, 7)))).singleElement()
                .satisfies(v -> assertViolation(v, "prompt_token_ids", ErrorCode.INVALID_REQUEST, "index 1 is -3"));
    }

    @Test
    void tooManyTokenIdsAreRefused() {
        assertThat(validate(valid().setPrompt(null).setPromptTokenIds(Collections.nCopies(10, 1)))).isEmpty();
        assertThat(validate(valid().setPrompt(null).setPromptTokenIds(Collections.nCopies(11, 1)))).singleElement()
                .satisfies(v -> assertViolation(v, "prompt_token_ids", ErrorCode.INVALID_REQUEST, "11 ids, more than the 10"));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, 65})
    void maxNewTokensOutsideOneToTheLimitIsRefused(int maxNewTokens) {
        assertThat(validate(valid().setParams(Requests.params().setMaxNewTokens(maxNewTokens).build()))).singleElement()
                .satisfies(v -> assertViolation(v, "params.max_new_tokens", ErrorCode.BAD_PARAMETER, "between 1 and 64"));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 64})
    void maxNewTokensAtTheBoundsIsAccepted(int maxNewTokens) {
        assertThat(validate(valid().setParams(Requests.params().setMaxNewTokens(maxNewTokens).build()))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(floats = {3f, -0.1f, Float.NaN})
    void temperatureOutsideZeroToTwoIsRefused(float temperature) {
        assertThat(validate(valid().setParams(Requests.params().setTemperature(temperature).build()))).singleElement()
                .satisfies(v -> assertViolation(v, "params.temperature", ErrorCode.BAD_PARAMETER, "between 0 and 2"));
    }

    @ParameterizedTest
    @ValueSource(floats = {0f, 2f})
    void temperatureAtTheBoundsIsAccepted(float temperature) {
        assertThat(validate(valid().setParams(Requests.params().setTemperature(temperature).build()))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(floats = {0f, -1f, 1.01f, Float.NaN})
    void topPOutsideZeroExclusiveToOneIsRefused(float topP) {
        assertThat(validate(valid().setParams(Requests.params().setTopP(topP).build()))).singleElement()
                .satisfies(v -> assertViolation(v, "params.top_p", ErrorCode.BAD_PARAMETER, "greater than 0 and at most 1"));
    }

    @Test
    void aNegativeTopKIsRefused() {
        assertThat(validate(valid().setParams(Requests.params().setTopK(-1).build()))).singleElement()
                .satisfies(v -> assertViolation(v, "params.top_k", ErrorCode.BAD_PARAMETER, ">= 0"));
    }

    @Test
    void logprobsAndPenaltiesOutOfRangeAreRefusedNamingThem() {
        assertThat(validate(valid().setParams(Requests.params().setLogprobs(6).build()))).singleElement()
                .satisfies(v -> assertViolation(v, "params.logprobs", ErrorCode.BAD_PARAMETER, "between 0 and 5"));
        assertThat(validate(valid().setParams(Requests.params().setPresencePenalty(-2.5f).setFrequencyPenalty(3f).build())))
                .extracting(v -> v.field()).containsExactly("params.presence_penalty", "params.frequency_penalty");
        assertThat(validate(valid().setParams(Requests.params().setLogprobs(5).setPresencePenalty(2f).setFrequencyPenalty(-2f).build()))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "derm atology", "derm/1", "ünicode", ".hidden", "-dash"})
    void anAdapterIdOutsideTheAllowedCharactersIsRefused(String adapterId) {
        assertThat(validate(valid().setAdapterId(adapterId))).singleElement()
                .satisfies(v -> assertViolation(v, "adapter_id", ErrorCode.INVALID_REQUEST, "not an adapter id"));
    }

    @Test
    void anAdapterIdOf128CharactersIsAcceptedAnd129IsRefused() {
        assertThat(validate(valid().setAdapterId("a".repeat(128)))).isEmpty();
        assertThat(validate(valid().setAdapterId("a".repeat(129)))).singleElement()
                .satisfies(v -> assertViolation(v, "adapter_id", ErrorCode.INVALID_REQUEST, "not an adapter id"));
    }

    @Test
    void theBackboneKeyIsNotAnAdapterId() {
        assertThat(validate(valid().setAdapterId(Topics.BASE_MODEL_KEY))).singleElement()
                .satisfies(v -> assertViolation(v, "adapter_id", ErrorCode.INVALID_REQUEST, "reserved for the plain backbone"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "replies for me", "replies/1", ".", "..", "__consumer_offsets", Topics.REQUESTS, Topics.ROUTED, Topics.DLQ,
            Topics.ATTRIBUTION, Topics.REQUESTS_BY_ID, "other.topic", "my-app.replies_1", "xinference.responses"})
    void anUnusableReplyTopicIsRefused(String topic) {
        assertThat(validate(valid().setReplyTopic(topic))).singleElement()
                .satisfies(v -> assertViolation(v, "reply_topic", ErrorCode.INVALID_REQUEST, "'"));
    }

    @ParameterizedTest
    @ValueSource(strings = {Topics.ATTRIBUTION, Topics.REQUESTS, "__consumer_offsets", "other.topic"})
    void aTopicOutsideTheReplyPatternIsRefusedNamingWhy(String topic) {
        assertThat(validate(valid().setReplyTopic(topic))).singleElement()
                .satisfies(v -> assertViolation(v, "reply_topic", ErrorCode.INVALID_REQUEST, "'" + topic + "'"));
    }

    @Test
    void aLegalTopicOutsideThePatternIsRefusedNamingThePattern() {
        assertThat(validate(valid().setReplyTopic("other.topic"))).singleElement()
                .satisfies(v -> assertViolation(v, "reply_topic", ErrorCode.INVALID_REQUEST,
                        "does not match the reply topics this pipeline answers on (inference\\.responses.*)"));
    }

    @Test
    void aReplyTopicOf250CharactersIsRefusedAnd249Accepted() {
        String prefix = "inference.responses.";
        assertThat(validate(valid().setReplyTopic(prefix + "t".repeat(249 - prefix.length())))).isEmpty();
        assertThat(validate(valid().setReplyTopic(prefix + "t".repeat(250 - prefix.length())))).singleElement()
                .satisfies(v -> assertViolation(v, "reply_topic", ErrorCode.INVALID_REQUEST, "not a legal Kafka topic name"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"inference.responses.client-1", Topics.RESPONSES, "inference.responses_app"})
    void aReplyTopicMatchingThePatternIsAccepted(String topic) {
        assertThat(validate(valid().setReplyTopic(topic))).isEmpty();
    }

    @Test
    void theReplyPatternIsTheRoutersSetting() {
        RouterConfig config = new RouterConfig(java.util.Map.of(RouterConfig.BOOTSTRAP_SERVERS, "b:9092", RouterConfig.SCHEMA_REGISTRY_URL, "http://r:8081",
                RouterConfig.REPLY_TOPIC_PATTERN, "replies\\.[a-z]+"));
        RequestValidator own = new RequestValidator(config);

        assertThat(own.validate(valid().setReplyTopic("replies.app").build())).isEmpty();
        assertThat(own.validate(valid().setReplyTopic("inference.responses.client-1").build())).singleElement()
                .satisfies(v -> assertViolation(v, "reply_topic", ErrorCode.INVALID_REQUEST, "replies\\.[a-z]+"));
        assertThat(own.validate(valid().setReplyTopic(Topics.ATTRIBUTION).build())).singleElement()
                .satisfies(v -> assertViolation(v, "reply_topic", ErrorCode.INVALID_REQUEST, "one of the pipeline's own topics"));
    }

    @Test
    void everyViolationIsReportedInFieldOrder() {
        List<Violation> violations = validate(valid().setTenant("").setParams(Requests.params().setTemperature(3f).setTopP(0f).build()));
        assertThat(violations).extracting(Violation::field).containsExactly("tenant", "params.temperature", "params.top_p");
    }

    private static void assertViolation(Violation v, String field, ErrorCode code, String reasonPart) {
        assertThat(v.field()).isEqualTo(field);
        assertThat(v.code()).isEqualTo(code);
        assertThat(v.reason()).contains(reasonPart);
    }
}
