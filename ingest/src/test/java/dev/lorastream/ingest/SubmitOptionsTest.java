package dev.lorastream.ingest;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class SubmitOptionsTest {
    private static final String[] BASE = {"--bootstrap-servers", "localhost:9092", "--schema-registry", "http://localhost:8081"};

    private static String[] with(String... more) {
        String[] args = new String[BASE.length + more.length];
        System.arraycopy(BASE, 0, args, 0, BASE.length);
        System.arraycopy(more, 0, args, BASE.length, more.length);
        return args;
    }

    private static UsageException refusal(String... args) {
        return catchThrowableOfType(UsageException.class, () -> SubmitOptions.parse(args));
    }

    @Test
    void fullCommandLineIsParsed() {
        SubmitOptions o = SubmitOptions.parse(new String[]{"submit", "--bootstrap-servers", "b:9092", "--schema-registry=http://r:8081",
                "--adapter", "nutrition", "--prompt", "what to eat?", "--max-new-tokens", "5", "--temperature", "0.7",
                "--tenant", "acme", "--timeout-s", "2.5"});

        assertThat(o.bootstrapServers()).isEqualTo("b:9092");
        assertThat(o.schemaRegistry()).isEqualTo("http://r:8081");
        assertThat(o.adapter()).isEqualTo("nutrition");
        assertThat(o.prompt()).isEqualTo("what to eat?");
        assertThat(o.promptIds()).isNull();
        assertThat(o.maxNewTokens()).isEqualTo(5);
        assertThat(o.temperature()).isEqualTo(0.7f);
        assertThat(o.tenant()).isEqualTo("acme");
        assertThat(o.timeout()).isEqualTo(Duration.ofMillis(2500));
    }

    @Test
    void defaultsApplyWhenOptionalFlagsAreAbsent() {
        SubmitOptions o = SubmitOptions.parse(with("--prompt", "hi"));

        assertThat(o.adapter()).isNull();
        assertThat(o.maxNewTokens()).isEqualTo(32);
        assertThat(o.temperature()).isZero();
        assertThat(o.tenant()).isEqualTo("cli");
        assertThat(o.timeout()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void promptIdsAreParsedAsTokenIds() {
        assertThat(SubmitOptions.parse(with("--prompt-ids", "1, 2,3")).promptIds()).containsExactly(1, 2, 3);
    }

    @Test
    void malformedPromptIdsNameTheFlag() {
        assertThat(refusal(with("--prompt-ids", "1,x")).flag()).isEqualTo("--prompt-ids");
        assertThat(refusal(with("--prompt-ids", "1,-2")).getMessage()).contains("--prompt-ids");
    }

    @Test
    void missingBootstrapServersIsNamed() {
        UsageException e = refusal("--schema-registry", "http://r:1", "--prompt", "hi");
        assertThat(e.flag()).isEqualTo("--bootstrap-servers");
        assertThat(e.getMessage()).contains("--bootstrap-servers is required");
    }

    @Test
    void bootstrapServersWithoutPortIsNamed() {
        assertThat(refusal("--bootstrap-servers", "localhost", "--schema-registry", "http://r:1", "--prompt", "hi").flag())
                .isEqualTo("--bootstrap-servers");
    }

    @Test
    void registryThatIsNotAUrlIsNamed() {
        assertThat(refusal("--bootstrap-servers", "b:1", "--schema-registry", "r:1", "--prompt", "hi").flag()).isEqualTo("--schema-registry");
    }

    @Test
    void promptAndPromptIdsTogetherAreRefused() {
        assertThat(refusal(with("--prompt", "hi", "--prompt-ids", "1")).getMessage()).contains("--prompt").contains("--prompt-ids").contains("exclusive");
    }

    @Test
    void neitherPromptNorPromptIdsIsRefused() {
        assertThat(refusal(BASE).getMessage()).contains("one of --prompt or --prompt-ids is required");
    }

    @Test
    void maxNewTokensBelowOneIsNamed() {
        UsageException e = refusal(with("--prompt", "hi", "--max-new-tokens", "0"));
        assertThat(e.flag()).isEqualTo("--max-new-tokens");
        assertThat(e.getMessage()).contains("at least 1");
    }

    @Test
    void nonNumericMaxNewTokensIsNamed() {
        assertThat(refusal(with("--prompt", "hi", "--max-new-tokens", "many")).getMessage()).contains("--max-new-tokens must be an integer");
    }

    @Test
    void temperatureOutOfRangeIsNamed() {
        assertThat(refusal(with("--prompt", "hi", "--temperature", "2.5")).flag()).isEqualTo("--temperature");
        assertThat(refusal(with("--prompt", "hi", "--temperature", "-1")).flag()).isEqualTo("--temperature");
    }

    @Test
    void nonPositiveTimeoutIsNamed() {
        assertThat(refusal(with("--prompt", "hi", "--timeout-s", "0")).flag()).isEqualTo("--timeout-s");
    }

    @Test
    void unknownFlagIsNamed() {
        UsageException e = refusal(with("--prompt", "hi", "--adaptor", "x"));
        assertThat(e.flag()).isEqualTo("--adaptor");
        assertThat(e.getMessage()).isEqualTo("unknown flag --adaptor");
    }

    @Test
    void flagWithoutValueIsNamed() {
        assertThat(refusal(with("--adapter", "--prompt", "hi")).getMessage()).isEqualTo("--adapter needs a value");
        assertThat(refusal(with("--prompt")).getMessage()).isEqualTo("--prompt needs a value");
    }

    @Test
    void repeatedFlagIsRefused() {
        assertThat(refusal(with("--prompt", "a", "--prompt", "b")).getMessage()).contains("--prompt is given more than once");
    }

    @Test
    void strayArgumentIsRefused() {
        assertThat(refusal(with("--prompt", "a", "extra")).getMessage()).contains("unexpected argument 'extra'");
    }

    @Test
    void helpIsRecognised() {
        assertThat(SubmitOptions.wantsHelp(new String[]{"submit", "--help"})).isTrue();
        assertThat(SubmitOptions.wantsHelp(BASE)).isFalse();
    }
}
