package dev.lorastream.ingest;

import dev.lorastream.schemas.InferenceRequest;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class SubmitCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final InMemoryGateway gateway = new InMemoryGateway();
    private final AtomicReference<ClientConfig> configSeen = new AtomicReference<>();
    private final SubmitCommand command = new SubmitCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8), config -> {
                configSeen.set(config);
                return new InferenceClient(gateway, config.defaultTimeout());
            });

    private static String[] args(String... more) {
        List<String> all = new java.util.ArrayList<>(List.of("submit", "--bootstrap-servers", "b:9092", "--schema-registry", "http://r:8081"));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private String out() { return out.toString(StandardCharsets.UTF_8); }
    private String err() { return err.toString(StandardCharsets.UTF_8); }

    @Test
    void okResponseIsPrintedAndExitsZero() {
        gateway.respondWith(r -> TestResponses.ok(r, "eat greens", List.of(11, 12)));

        int exit = command.execute(args("--adapter", "nutrition", "--prompt", "what to eat?", "--max-new-tokens", "2", "--tenant", "acme"));

        assertThat(exit).isZero();
        InferenceRequest sent = gateway.sent.getFirst();
        assertThat(sent.getAdapterId()).isEqualTo("nutrition");
        assertThat(sent.getTenant()).isEqualTo("acme");
        assertThat(sent.getParams().getMaxNewTokens()).isEqualTo(2);
        assertThat(out()).contains("request_id: " + sent.getRequestId(), "adapter: nutrition", "status: OK", "text: eat greens",
                "token_ids: [11, 12]", "completion_tokens: 2", "timings_ms: queue=1 prefill=2 decode=3 total=6");
        assertThat(configSeen.get().bootstrapServers()).isEqualTo("b:9092");
    }

    @Test
    void promptIdsAndTemperatureReachTheRequest() {
        gateway.respondWith(r -> TestResponses.ok(r, "x", List.of(1)));

        command.execute(args("--prompt-ids", "5,6", "--temperature", "0.5"));

        InferenceRequest sent = gateway.sent.getFirst();
        assertThat(sent.getPromptTokenIds()).containsExactly(5, 6);
        assertThat(sent.getPrompt()).isNull();
        assertThat(sent.getParams().getTemperature()).isEqualTo(0.5f);
    }

    @Test
    void errorResponseIsPrintedAndExitsOne() {
        gateway.respondWith(r -> TestResponses.error(r, "UNKNOWN_ADAPTER", "adapter_id", "no adapter 'nope'"));

        int exit = command.execute(args("--adapter", "nope", "--prompt", "hi"));

        assertThat(exit).isEqualTo(1);
        assertThat(out()).contains("status: ERROR", "error_code: UNKNOWN_ADAPTER", "error_field: adapter_id", "error_message: no adapter 'nope'");
    }

    @Test
    void noResponseInTimeExitsOneWithAMessage() {
        int exit = command.execute(args("--prompt", "hi", "--timeout-s", "0.1"));

        assertThat(exit).isEqualTo(1);
        assertThat(err()).contains("no response for request");
    }

    @Test
    void badArgumentsExitTwoNamingTheFlagWithoutConnecting() {
        int exit = command.execute(args("--prompt", "hi", "--max-new-tokens", "-3"));

        assertThat(exit).isEqualTo(2);
        assertThat(err()).contains("--max-new-tokens must be at least 1").contains("usage: submit");
        assertThat(configSeen.get()).isNull();
    }

    @Test
    void helpPrintsUsageAndExitsZero() {
        assertThat(command.execute(new String[]{"--help"})).isZero();
        assertThat(out()).contains("usage: submit");
    }

    @Test
    void timeoutFlagBecomesTheClientTimeout() {
        gateway.respondWith(r -> TestResponses.ok(r, "x", List.of(1)));

        command.execute(args("--prompt", "hi", "--timeout-s", "7"));

        assertThat(configSeen.get().defaultTimeout()).isEqualTo(Duration.ofSeconds(7));
    }
}
