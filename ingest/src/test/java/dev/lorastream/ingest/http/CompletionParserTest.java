package dev.lorastream.ingest.http;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class CompletionParserTest {
    private static final Set<String> CATALOG = Set.of("dermatology", "cardiology");
    private final CompletionParser parser = new CompletionParser(HttpConfig.builder().defaultMaxTokens(16).defaultTenant("anon").build(),
            ChatTemplate.roleTags());

    private CompletionRequest completion(String json) {
        return parser.completion(json.getBytes(StandardCharsets.UTF_8), null, CATALOG);
    }

    private CompletionRequest chat(String json) {
        return parser.chat(json.getBytes(StandardCharsets.UTF_8), null, CATALOG);
    }

    private ApiError completionError(String json) {
        return catchThrowableOfType(ApiError.class, () -> completion(json));
    }

    private ApiError chatError(String json) {
        return catchThrowableOfType(ApiError.class, () -> chat(json));
    }

    @Test
    void fullCompletionRequestIsRead() {
        CompletionRequest r = completion("""
                {"model":"dermatology","prompt":"itchy skin","max_tokens":8,"temperature":0.5,"top_p":0.9,"top_k":40,
                 "seed":42,"user":"acme","n":1,"stream":false,"stop":[]}""");

        assertThat(r.model()).isEqualTo("dermatology");
        assertThat(r.adapterId()).isEqualTo("dermatology");
        assertThat(r.prompt()).isEqualTo("itchy skin");
        assertThat(r.maxTokens()).isEqualTo(8);
        assertThat(r.temperature()).isEqualTo(0.5f);
        assertThat(r.topP()).isEqualTo(0.9f);
        assertThat(r.topK()).isEqualTo(40);
        assertThat(r.seed()).isEqualTo(42L);
        assertThat(r.tenant()).isEqualTo("acme");
    }

    @Test
    void absentOrBaseModelServesTheBackboneWithDefaults() {
        CompletionRequest absent = completion("{\"prompt\":\"hi\"}");
        CompletionRequest base = completion("{\"prompt\":\"hi\",\"model\":\"base\",\"temperature\":null}");

        assertThat(absent.adapterId()).isNull();
        assertThat(absent.model()).isEqualTo("base");
        assertThat(absent.maxTokens()).isEqualTo(16);
        assertThat(absent.temperature()).isZero();
        assertThat(absent.topP()).isEqualTo(1f);
        assertThat(absent.seed()).isNull();
        assertThat(absent.tenant()).isEqualTo("anon");
        assertThat(base.adapterId()).isNull();
    }

    @Test
    void tenantHeaderWinsOverUser() {
        CompletionRequest r = parser.completion("{\"prompt\":\"hi\",\"user\":\"body\"}".getBytes(StandardCharsets.UTF_8), "header", CATALOG);
        assertThat(r.tenant()).isEqualTo("header");
    }

    @Test
    void promptAsTokenIdsIsAccepted() {
        CompletionRequest r = completion("{\"prompt\":[1,2,3]}");
        assertThat(r.prompt()).isNull();
        assertThat(r.promptTokenIds()).containsExactly(1, 2, 3);
    }

    @Test
    void invalidJsonIsRefusedWithItsPosition() {
        ApiError e = completionError("{\"prompt\": \"hi\",");
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.code()).isEqualTo("invalid_json");
        assertThat(e.pipelineCode()).isEqualTo("MALFORMED_RECORD");
        assertThat(e.getMessage()).contains("not valid JSON").contains("line 1");
        assertThat(e.refusedInput()).isTrue();
    }

    @Test
    void trailingGarbageAfterTheObjectIsInvalidJson() {
        assertThat(completionError("{\"prompt\":\"hi\"} x").code()).isEqualTo("invalid_json");
    }

    @Test
    void duplicateKeysAreInvalidJson() {
        assertThat(completionError("{\"prompt\":\"a\",\"prompt\":\"b\"}").getMessage()).contains("prompt");
    }

    @Test
    void emptyBodyIsRefused() {
        assertThat(completionError("").getMessage()).contains("empty");
    }

    @Test
    void bodyThatIsNotAnObjectIsRefused() {
        ApiError e = completionError("[1,2]");
        assertThat(e.getMessage()).contains("must be a JSON object, got array");
    }

    @Test
    void missingPromptIsNamed() {
        ApiError e = completionError("{\"model\":\"base\"}");
        assertThat(e.param()).isEqualTo("prompt");
        assertThat(e.code()).isEqualTo("missing_required_parameter");
        assertThat(e.getMessage()).isEqualTo("'prompt' is required");
    }

    @Test
    void emptyPromptIsNamed() {
        ApiError e = completionError("{\"prompt\":\"\"}");
        assertThat(e.param()).isEqualTo("prompt");
        assertThat(e.getMessage()).contains("must not be empty");
    }

    @Test
    void promptOfTheWrongTypeIsNamed() {
        ApiError e = completionError("{\"prompt\":{\"text\":\"hi\"}}");
        assertThat(e.param()).isEqualTo("prompt");
        assertThat(e.code()).isEqualTo("invalid_type");
    }

    @Test
    void severalPromptsAreRefused() {
        assertThat(completionError("{\"prompt\":[\"a\",\"b\"]}").code()).isEqualTo("unsupported_value");
    }

    @Test
    void maxTokensBelowOneIsNamed() {
        ApiError e = completionError("{\"prompt\":\"hi\",\"max_tokens\":0}");
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.param()).isEqualTo("max_tokens");
        assertThat(e.pipelineCode()).isEqualTo("BAD_PARAMETER");
        assertThat(e.getMessage()).contains("at least 1, got 0");
    }

    @Test
    void maxTokensAsAStringIsAWrongType() {
        ApiError e = completionError("{\"prompt\":\"hi\",\"max_tokens\":\"8\"}");
        assertThat(e.param()).isEqualTo("max_tokens");
        assertThat(e.code()).isEqualTo("invalid_type");
        assertThat(e.getMessage()).contains("must be an integer");
    }

    @Test
    void fractionalMaxTokensIsAWrongType() {
        assertThat(completionError("{\"prompt\":\"hi\",\"max_tokens\":1.5}").code()).isEqualTo("invalid_type");
    }

    @Test
    void temperatureOutsideZeroToTwoIsNamed() {
        ApiError high = completionError("{\"prompt\":\"hi\",\"temperature\":2.01}");
        ApiError low = completionError("{\"prompt\":\"hi\",\"temperature\":-0.1}");
        assertThat(high.param()).isEqualTo("temperature");
        assertThat(high.getMessage()).contains("between 0 and 2");
        assertThat(low.param()).isEqualTo("temperature");
    }

    @Test
    void temperatureAtTheBoundsIsAccepted() {
        assertThat(completion("{\"prompt\":\"hi\",\"temperature\":2}").temperature()).isEqualTo(2f);
        assertThat(completion("{\"prompt\":\"hi\",\"temperature\":0}").temperature()).isZero();
    }

    @Test
    void temperatureAsAStringIsAWrongType() {
        assertThat(completionError("{\"prompt\":\"hi\",\"temperature\":\"hot\"}").code()).isEqualTo("invalid_type");
    }

    @Test
    void topPOutOfRangeIsNamed() {
        assertThat(completionError("{\"prompt\":\"hi\",\"top_p\":0}").param()).isEqualTo("top_p");
        assertThat(completionError("{\"prompt\":\"hi\",\"top_p\":1.5}").param()).isEqualTo("top_p");
    }

    @Test
    void seedMustBeAnInteger() {
        assertThat(completionError("{\"prompt\":\"hi\",\"seed\":\"x\"}").param()).isEqualTo("seed");
    }

    @Test
    void userOfTheWrongTypeIsNamed() {
        assertThat(completionError("{\"prompt\":\"hi\",\"user\":5}").param()).isEqualTo("user");
    }

    @Test
    void modelOfTheWrongTypeIsNamed() {
        ApiError e = completionError("{\"prompt\":\"hi\",\"model\":7}");
        assertThat(e.param()).isEqualTo("model");
        assertThat(e.code()).isEqualTo("invalid_type");
    }

    @Test
    void unknownModelIsNotFoundWhenTheCatalogIsKnown() {
        ApiError e = completionError("{\"prompt\":\"hi\",\"model\":\"oncology\"}");
        assertThat(e.status()).isEqualTo(404);
        assertThat(e.param()).isEqualTo("model");
        assertThat(e.code()).isEqualTo("model_not_found");
        assertThat(e.pipelineCode()).isEqualTo("UNKNOWN_ADAPTER");
        assertThat(e.getMessage()).contains("oncology");
    }

    @Test
    void anyModelPassesWhileTheCatalogIsEmpty() {
        CompletionRequest r = parser.completion("{\"prompt\":\"hi\",\"model\":\"oncology\"}".getBytes(StandardCharsets.UTF_8), null, Set.of());
        assertThat(r.adapterId()).isEqualTo("oncology");
    }

    @Test
    void unrecognisedParameterIsNamed() {
        ApiError e = completionError("{\"prompt\":\"hi\",\"temprature\":1}");
        assertThat(e.param()).isEqualTo("temprature");
        assertThat(e.code()).isEqualTo("unknown_parameter");
        assertThat(e.getMessage()).contains("Unrecognized request argument supplied: temprature");
    }

    @Test
    void stopIsAStringOrUpToFourStrings() {
        assertThat(completion("{\"prompt\":\"hi\",\"stop\":\"\\n\"}").stop()).containsExactly("\n");
        assertThat(completion("{\"prompt\":\"hi\",\"stop\":[\"a\",\"b\"]}").stop()).containsExactly("a", "b");
        assertThat(completion("{\"prompt\":\"hi\",\"stop\":[\"a\",\"b\"]}").toInferenceRequest("id", java.time.Instant.now(),
                java.time.Duration.ofSeconds(1)).getParams().getStop()).containsExactly("a", "b");
        assertThat(completion("{\"prompt\":\"hi\",\"stop\":null}").stop()).isEmpty();
        ApiError five = completionError("{\"prompt\":\"hi\",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}");
        assertThat(five.param()).isEqualTo("stop");
        assertThat(five.getMessage()).contains("at most 4");
        assertThat(completionError("{\"prompt\":\"hi\",\"stop\":[1]}").param()).isEqualTo("stop");
        assertThat(completionError("{\"prompt\":\"hi\",\"stop\":[\"\"]}").param()).isEqualTo("stop");
    }

    @Test
    void streamAndIncludeUsageAreRead() {
        CompletionRequest r = completion("{\"prompt\":\"hi\",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        assertThat(r.stream()).isTrue();
        assertThat(r.includeUsage()).isTrue();
        assertThat(r.toInferenceRequest("id", java.time.Instant.now(), java.time.Duration.ofSeconds(1)).getParams().getStream()).isTrue();
        assertThat(completion("{\"prompt\":\"hi\"}").stream()).isFalse();
    }

    @Test
    void streamAndIncludeUsageAreReadAndStreamOptionsNeedStream() {
        assertThat(completionError("{\"prompt\":\"hi\",\"stream_options\":{\"include_usage\":true}}").param()).isEqualTo("stream_options");
        assertThat(completionError("{\"prompt\":\"hi\",\"stream\":1}").param()).isEqualTo("stream");
        assertThat(completionError("{\"prompt\":\"hi\",\"stream\":true,\"stream_options\":{\"include_usage\":\"yes\"}}").param())
                .isEqualTo("stream_options.include_usage");
    }

    @Test
    void nChoicesUpToTheLimitAreAskedForAndEachChoiceIsItsOwnRequest() {
        CompletionRequest r = completion("{\"prompt\":\"hi\",\"n\":3,\"seed\":7,\"temperature\":0.8}");
        assertThat(r.n()).isEqualTo(3);
        var now = java.time.Instant.parse("2026-12-02T00:00:00Z");
        var second = r.toInferenceRequest("req-1", now, java.time.Duration.ofSeconds(5), 2);
        assertThat(second.getRequestId()).isEqualTo("req-1-2");
        assertThat(second.getParams().getSeed()).as("choices sample apart").isEqualTo(9L);
        assertThat(r.toInferenceRequest("req-1", now, java.time.Duration.ofSeconds(5)).getRequestId()).isEqualTo("req-1");
        assertThat(completionError("{\"prompt\":\"hi\",\"n\":9}").param()).isEqualTo("n");
        assertThat(completionError("{\"prompt\":\"hi\",\"n\":0}").param()).isEqualTo("n");
        assertThat(completionError("{\"prompt\":\"hi\",\"n\":2,\"stream\":true}").param()).isEqualTo("n");
    }

    @Test
    void logprobsArePerEndpointAndBounded() {
        assertThat(completion("{\"prompt\":\"hi\",\"logprobs\":3}").logprobs()).isEqualTo(3);
        assertThat(completion("{\"prompt\":\"hi\"}").logprobs()).isEqualTo(-1);
        assertThat(completion("{\"prompt\":\"hi\",\"logprobs\":2}").toInferenceRequest("r", java.time.Instant.now(), java.time.Duration.ofSeconds(1))
                .getParams().getLogprobs()).isEqualTo(2);
        assertThat(completionError("{\"prompt\":\"hi\",\"logprobs\":6}").param()).isEqualTo("logprobs");
        assertThat(completionError("{\"prompt\":\"hi\",\"logprobs\":true}").param()).isEqualTo("logprobs");
        assertThat(completionError("{\"prompt\":\"hi\",\"logprobs\":1,\"stream\":true}").param()).isEqualTo("logprobs");
        String messages = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
        assertThat(chat("{" + messages + ",\"logprobs\":true,\"top_logprobs\":4}").logprobs()).isEqualTo(4);
        assertThat(chat("{" + messages + ",\"logprobs\":true}").logprobs()).isZero();
        assertThat(chat("{" + messages + ",\"logprobs\":false}").logprobs()).isEqualTo(-1);
        assertThat(chatError("{" + messages + ",\"top_logprobs\":2}").param()).isEqualTo("top_logprobs");
        assertThat(chatError("{" + messages + ",\"logprobs\":true,\"top_logprobs\":6}").param()).isEqualTo("top_logprobs");
    }

    @Test
    void penaltiesAreNumbersFromMinusTwoToTwo() {
        CompletionRequest r = completion("{\"prompt\":\"hi\",\"presence_penalty\":0.5,\"frequency_penalty\":-1.25}");
        assertThat(r.presencePenalty()).isEqualTo(0.5f);
        assertThat(r.frequencyPenalty()).isEqualTo(-1.25f);
        var params = r.toInferenceRequest("r", java.time.Instant.now(), java.time.Duration.ofSeconds(1)).getParams();
        assertThat(params.getPresencePenalty()).isEqualTo(0.5f);
        assertThat(params.getFrequencyPenalty()).isEqualTo(-1.25f);
        assertThat(completionError("{\"prompt\":\"hi\",\"presence_penalty\":2.5}").param()).isEqualTo("presence_penalty");
        assertThat(completionError("{\"prompt\":\"hi\",\"frequency_penalty\":\"high\"}").param()).isEqualTo("frequency_penalty");
    }

    @Test
    void chatMessagesAreRenderedWithTheTemplate() {
        CompletionRequest r = chat("""
                {"model":"cardiology","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Heart rate?"}],
                 "max_completion_tokens":4}""");

        assertThat(r.prompt()).isEqualTo("<|system|>\nBe brief.\n<|user|>\nHeart rate?\n<|assistant|>\n");
        assertThat(r.adapterId()).isEqualTo("cardiology");
        assertThat(r.maxTokens()).isEqualTo(4);
        assertThat(r.endpoint()).isEqualTo(CompletionRequest.Endpoint.CHAT_COMPLETIONS);
    }

    @Test
    void chatContentAsTextPartsIsJoined() {
        CompletionRequest r = chat("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]}]}");
        assertThat(r.prompt()).isEqualTo("<|user|>\na\nb\n<|assistant|>\n");
    }

    @Test
    void developerRoleIsRenderedAsSystem() {
        assertThat(chat("{\"messages\":[{\"role\":\"developer\",\"content\":\"x\"}]}").prompt()).startsWith("<|system|>\nx\n");
    }

    @Test
    void missingMessagesIsNamed() {
        ApiError e = chatError("{\"model\":\"base\"}");
        assertThat(e.param()).isEqualTo("messages");
        assertThat(e.code()).isEqualTo("missing_required_parameter");
    }

    @Test
    void emptyMessagesIsNamed() {
        ApiError e = chatError("{\"messages\":[]}");
        assertThat(e.param()).isEqualTo("messages");
        assertThat(e.getMessage()).contains("must not be empty");
    }

    @Test
    void messagesOfTheWrongTypeIsNamed() {
        assertThat(chatError("{\"messages\":\"hi\"}").code()).isEqualTo("invalid_type");
    }

    @Test
    void messageWithoutRoleIsNamedByIndex() {
        assertThat(chatError("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"content\":\"b\"}]}").param()).isEqualTo("messages[1].role");
    }

    @Test
    void messageWithUnknownRoleIsNamed() {
        ApiError e = chatError("{\"messages\":[{\"role\":\"tool\",\"content\":\"a\"}]}");
        assertThat(e.param()).isEqualTo("messages[0].role");
        assertThat(e.getMessage()).contains("'tool'");
    }

    @Test
    void messageWithEmptyContentIsNamed() {
        ApiError e = chatError("{\"messages\":[{\"role\":\"user\",\"content\":\"\"}]}");
        assertThat(e.param()).isEqualTo("messages[0].content");
        assertThat(e.getMessage()).contains("must not be empty");
    }

    @Test
    void messageWithNonTextContentIsNamed() {
        assertThat(chatError("{\"messages\":[{\"role\":\"user\",\"content\":42}]}").param()).isEqualTo("messages[0].content");
    }

    @Test
    void chatMaxTokensAndMaxCompletionTokensMustAgree() {
        assertThat(chatError("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],\"max_tokens\":3,\"max_completion_tokens\":4}").param())
                .isEqualTo("max_tokens");
    }

    @Test
    void chatMaxCompletionTokensBelowOneIsNamed() {
        assertThat(chatError("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],\"max_completion_tokens\":0}").param())
                .isEqualTo("max_completion_tokens");
    }

    @Test
    void chatRefusesCompletionOnlyParameters() {
        assertThat(chatError("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],\"prompt\":\"x\"}").code()).isEqualTo("unknown_parameter");
    }
}
