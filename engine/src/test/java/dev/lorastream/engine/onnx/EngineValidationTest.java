package dev.lorastream.engine.onnx;

import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.demo.DemoModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** validate(): error code and field (snake_case, as in the Avro schema) for each kind of bad task. */
class EngineValidationTest {
    @TempDir
    static Path tmp;
    static OnnxLoraEngine engine;

    @BeforeAll
    static void open() {
        DemoModels.Paths p = DemoModels.write(tmp);
        engine = OnnxLoraEngine.open(new EngineConfig(p.backbone(), p.adapters(), "cpu", 4).withMaxNewTokensLimit(128));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static GenerationTask task(String adapter, int[] prompt, int maxNew, float temperature, float topP, int topK) {
        return new GenerationTask("req-1", adapter, prompt, maxNew, temperature, topP, topK, null, false);
    }

    private static final int[] PROMPT = {1, 40, 41, 42};

    static Stream<Arguments> badTasks() {
        return Stream.of(
                Arguments.of("unknown adapter", task("oncology", PROMPT, 8, 0f, 1f, 0), "UNKNOWN_ADAPTER", "adapter_id"),
                Arguments.of("empty prompt", task(null, new int[0], 8, 0f, 1f, 0), "INVALID_REQUEST", "prompt"),
                Arguments.of("token id too large", task(null, new int[] {1, 99}, 8, 0f, 1f, 0), "INVALID_REQUEST", "prompt_token_ids"),
                Arguments.of("negative token id", task(null, new int[] {1, -3}, 8, 0f, 1f, 0), "INVALID_REQUEST", "prompt_token_ids"),
                Arguments.of("prompt plus new tokens too long", task(null, new int[200], 100, 0f, 1f, 0), "PROMPT_TOO_LONG", "prompt"),
                Arguments.of("max_new_tokens zero", task(null, PROMPT, 0, 0f, 1f, 0), "BAD_PARAMETER", "params.max_new_tokens"),
                Arguments.of("max_new_tokens over the limit", task(null, PROMPT, 129, 0f, 1f, 0), "BAD_PARAMETER", "params.max_new_tokens"),
                Arguments.of("negative temperature", task(null, PROMPT, 8, -0.1f, 1f, 0), "BAD_PARAMETER", "params.temperature"),
                Arguments.of("temperature above 2", task(null, PROMPT, 8, 2.5f, 1f, 0), "BAD_PARAMETER", "params.temperature"),
                Arguments.of("NaN temperature", task(null, PROMPT, 8, Float.NaN, 1f, 0), "BAD_PARAMETER", "params.temperature"),
                Arguments.of("top_p zero", task(null, PROMPT, 8, 1f, 0f, 0), "BAD_PARAMETER", "params.top_p"),
                Arguments.of("top_p above 1", task(null, PROMPT, 8, 1f, 1.5f, 0), "BAD_PARAMETER", "params.top_p"),
                Arguments.of("negative top_k", task(null, PROMPT, 8, 1f, 1f, -1), "BAD_PARAMETER", "params.top_k"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badTasks")
    void badTasksAreRejectedWithCodeAndField(String name, GenerationTask task, String code, String field) {
        InvalidTaskException e = catchThrowableOfType(InvalidTaskException.class, () -> engine.validate(task));

        assertThat(e).as(name).isNotNull();
        assertThat(e.code()).isEqualTo(code);
        assertThat(e.field()).isEqualTo(field);
        assertThat(e.getMessage()).isNotBlank();
    }

    @Test
    void validTasksPassForTheBackboneAndEveryAdapter() throws Exception {
        for (String adapter : new String[] {null, "dermatology", "cardiology", "nutrition"}) {
            engine.validate(task(adapter, PROMPT, 128, 2f, 1f, 0));
        }
        engine.validate(task(null, new int[128], 128, 0f, 0.5f, 5));
    }

    @Test
    void generateRefusesTasksThatDoNotValidate() {
        assertThatThrownBy(() -> engine.generate(List.of(task("oncology", PROMPT, 8, 0f, 1f, 0))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("UNKNOWN_ADAPTER adapter_id");
    }

    @Test
    void modelInfoDescribesTheBackbone() {
        assertThat(engine.model().baseModel()).isEqualTo("demo-llama");
        assertThat(engine.model().maxSequenceLength()).isEqualTo(256);
        assertThat(engine.model().vocabSize()).isEqualTo(99);
        assertThat(engine.model().eosTokenId()).isEqualTo(2);
        assertThat(engine.model().executionProvider()).isEqualTo("CPU");
    }
}
