package dev.lorastream.engine.sim;

import dev.lorastream.engine.ContributorShare;
import dev.lorastream.engine.EngineLoad;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.scheduler.TaskValidator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.lorastream.engine.sim.EngineFixtures.await;
import static dev.lorastream.engine.sim.EngineFixtures.task;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Validation with the real engine's codes and fields, the tokenizer, the labels that say "simulated", the metrics, close. */
class SimEngineApiTest {
    private SimulatedEngine engine = new SimulatedEngine(EngineFixtures.config().withMaxNewTokensLimit(64));

    @AfterEach
    void close() {
        engine.close();
    }

    private static GenerationTask t(String id, String adapter, int[] prompt, int maxNew, float temperature, float topP, int topK) {
        return new GenerationTask(id, adapter, prompt, maxNew, temperature, topP, topK, null, false);
    }

    private static final int[] PROMPT = {1, 40, 41, 42};

    static Stream<Arguments> badTasks() {
        return Stream.of(
                Arguments.of("unknown adapter", t("r", "oncology", PROMPT, 8, 0f, 1f, 0), TaskValidator.UNKNOWN_ADAPTER, "adapter_id"),
                Arguments.of("no request id", t(" ", null, PROMPT, 8, 0f, 1f, 0), TaskValidator.INVALID_REQUEST, "request_id"),
                Arguments.of("empty prompt", t("r", null, new int[0], 8, 0f, 1f, 0), TaskValidator.INVALID_REQUEST, "prompt"),
                Arguments.of("token id outside the vocabulary", t("r", null, new int[] {1, 1000}, 8, 0f, 1f, 0), TaskValidator.INVALID_REQUEST, "prompt_token_ids"),
                Arguments.of("prompt plus new tokens too long", t("r", null, new int[250], 10, 0f, 1f, 0), TaskValidator.PROMPT_TOO_LONG, "prompt"),
                Arguments.of("max_new_tokens zero", t("r", null, PROMPT, 0, 0f, 1f, 0), TaskValidator.BAD_PARAMETER, "params.max_new_tokens"),
                Arguments.of("max_new_tokens over the limit", t("r", null, PROMPT, 65, 0f, 1f, 0), TaskValidator.BAD_PARAMETER, "params.max_new_tokens"),
                Arguments.of("temperature above 2", t("r", null, PROMPT, 8, 2.5f, 1f, 0), TaskValidator.BAD_PARAMETER, "params.temperature"),
                Arguments.of("top_p zero", t("r", null, PROMPT, 8, 1f, 0f, 0), TaskValidator.BAD_PARAMETER, "params.top_p"),
                Arguments.of("negative top_k", t("r", null, PROMPT, 8, 1f, 1f, -1), TaskValidator.BAD_PARAMETER, "params.top_k"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badTasks")
    void badTasksAreRefusedWithTheRealEnginesCodeAndField(String name, GenerationTask task, String code, String field) {
        InvalidTaskException e = catchThrowableOfType(InvalidTaskException.class, () -> engine.validate(task));
        assertThat(e).as(name).isNotNull();
        assertThat(e.code()).isEqualTo(code);
        assertThat(e.field()).isEqualTo(field);

        CompletableFuture<Generation> f = engine.submit(task);
        assertThat(f).isCompletedExceptionally();
        assertThatThrownBy(f::join).hasCauseInstanceOf(InvalidTaskException.class);
        assertThatThrownBy(() -> engine.generate(List.of(task))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(code).hasMessageContaining(field);
    }

    @Test
    void validTasksPassForTheBackboneAndEveryAdapter() throws Exception {
        engine.validate(t("r", null, PROMPT, 64, 2f, 1f, 0));
        for (String id : engine.adapterIds()) engine.validate(t("r", id, PROMPT, 8, 0f, 0.5f, 5));
        engine.validate(t("r", null, new int[192], 64, 0f, 1f, 0));
    }

    @Test
    void textPromptsGoThroughTheByteTokenizer() {
        int[] ids = engine.encode("héllo");
        assertThat(ids[0]).isEqualTo(SimTokenizer.BOS);
        assertThat(ids).hasSize(1 + "héllo".getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        assertThat(ids[1]).isEqualTo('h' + SimTokenizer.BYTE_OFFSET);
        assertThat(engine.decode(ids)).isEqualTo("héllo");

        Generation g = engine.generate(List.of(new GenerationTask("text", null, ids, 12, 0f, 1f, 0, null, false))).getFirst();
        assertThat(engine.decode(g.tokenIds())).hasSize(12).matches("[a-z]+");
    }

    @Test
    void everyOutputSaysItIsSimulated() {
        assertThat(engine.model().baseModel()).startsWith("sim:");
        assertThat(engine.model().executionProvider()).isEqualTo("SIM");
        assertThat(engine.model().vocabSize()).isEqualTo(1000);
        assertThat(engine.model().maxSequenceLength()).isEqualTo(256);
        assertThat(engine.load().simulated()).isTrue();
        assertThatThrownBy(() -> EngineFixtures.config().withBaseModel("llama-3.2-1b")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sim:");

        engine.generate(List.of(task("m", null, 4, 3)));
        String text = engine.prometheusText();
        List<String> samples = text.lines().filter(l -> !l.startsWith("#")).toList();
        assertThat(samples).hasSizeGreaterThan(10).allSatisfy(l -> assertThat(l).startsWith("lorastream_sim_").contains("simulated=\"true\""));
        assertThat(text).contains("lorastream_sim_forward_passes_total{simulated=\"true\",kind=\"prefill\"} 1")
                .contains("lorastream_sim_forward_passes_total{simulated=\"true\",kind=\"decode\"} 2")
                .contains("lorastream_sim_generated_tokens_total{simulated=\"true\"} 3")
                .contains("base_model=\"sim:test-model\"");
    }

    @Test
    void adaptersHaveOneContributorAndTheSimulatedVersion() {
        assertThat(engine.adapterIds()).containsExactly("a0", "a1", "a2", "a3", "a4", "a5");
        assertThat(engine.contributors("a3")).containsExactly(new ContributorShare("sim-contributor-a3", 1.0));
        assertThat(engine.contributors(null)).isEmpty();
        assertThat(engine.adapterVersion("a3")).isEqualTo("sim-1");
        assertThatThrownBy(() -> engine.contributors("nope")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nope");
    }

    @Test
    void aFleetSizedH200EngineOpensWithTheCalibratedMemory() {
        SimulatedEngine h200 = new SimulatedEngine(SimConfig.h200(1000, "z%04d"));
        try {
            assertThat(h200.adapterIds()).hasSize(1000).contains("z0000", "z0999");
            EngineLoad l = h200.load();
            assertThat(l.memoryTotalBytes()).isEqualTo(150_754_820_096L);
            assertThat(l.memoryFreeBytes()).isEqualTo(150_754_820_096L - 2_471_645_456L - 49L * 9_961_472L);
            assertThat(l.hostAdapters()).hasSize(SimConfig.DEFAULT_HOST_SLOTS).contains("z0000").doesNotContain("z0999");
            assertThat(l.kvTokensCapacity()).isEqualTo(32L * 4096);
            assertThat(h200.model().baseModel()).isEqualTo("sim:llama-3.2-1b-h200");
        } finally {
            h200.close();
        }
        assertThatThrownBy(() -> new SimulatedEngine(SimConfig.h200(10, "z%d").withMaxRows(2048).withMaxSequenceLength(131_072)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("KV cache");
    }

    @Test
    void closeFailsWhatIsWaitingOrRunningAndStopsTheThread() throws Exception {
        engine.close();
        engine = new SimulatedEngine(EngineFixtures.config().withMaxRows(1));
        List<CompletableFuture<Generation>> futures = List.of(engine.submit(task("1", null, 4, 200)), engine.submit(task("2", null, 4, 200)),
                engine.submit(task("3", "a4", 4, 200)));
        await("one running, two waiting", () -> engine.load().running() == 1 && engine.load().waiting() == 2);

        engine.close();

        for (CompletableFuture<Generation> f : futures) {
            assertThatThrownBy(() -> f.get(2, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(IllegalStateException.class).hasRootCauseMessage("engine is closed");
        }
        assertThat(engine.schedulerThread().isAlive()).isFalse();
        assertThat(engine.submit(task("4", null, 4, 2))).isCompletedExceptionally();
        assertThatThrownBy(() -> engine.submit(task("4", null, 4, 2)).join()).hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("engine is closed");
        assertThatThrownBy(() -> engine.generate(List.of(task("5", null, 4, 2)))).isInstanceOf(IllegalStateException.class).hasMessage("engine is closed");
        assertThatThrownBy(() -> engine.validate(task("6", null, 4, 2))).isInstanceOf(IllegalStateException.class);
        engine.close();
    }
}
