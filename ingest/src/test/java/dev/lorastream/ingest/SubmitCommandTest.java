package dev.lorastream.ingest;

import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.cli.Cli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code submit} in-process against an in-memory gateway: what it sends, prints and exits with, and its usage errors. */
class SubmitCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private final InMemoryGateway gateway = new InMemoryGateway();
    private final AtomicReference<ClientConfig> configSeen = new AtomicReference<>();

    private static String[] args(String... more) {
        List<String> all = new ArrayList<>(List.of("--bootstrap-servers", "b:9092", "--schema-registry", "http://r:8081"));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private int execute(Map<String, String> env, String... args) {
        SubmitCommand command = new SubmitCommand(config -> {
            configSeen.set(config);
            return new InferenceClient(gateway, config.defaultTimeout());
        });
        return Cli.commandLine(command, env).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
    }

    private int execute(String... args) { return execute(Map.of(), args); }

    private String out() { return out.toString(); }
    private String err() { return err.toString(); }

    @Test
    void okResponseIsPrintedAndExitsZero() {
        gateway.respondWith(r -> TestResponses.ok(r, "eat greens", List.of(11, 12)));

        int exit = execute(args("--adapter", "nutrition", "--prompt", "what to eat?", "--max-new-tokens", "2", "--tenant", "acme"));

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
    void defaultsApplyWhenOptionalOptionsAreAbsent() {
        gateway.respondWith(r -> TestResponses.ok(r, "x", List.of(1)));

        execute(args("--prompt", "hi"));

        InferenceRequest sent = gateway.sent.getFirst();
        assertThat(sent.getAdapterId()).isNull();
        assertThat(sent.getParams().getMaxNewTokens()).isEqualTo(32);
        assertThat(sent.getParams().getTemperature()).isZero();
        assertThat(sent.getTenant()).isEqualTo("cli");
        assertThat(configSeen.get().defaultTimeout()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void promptIdsAndTemperatureReachTheRequest() {
        gateway.respondWith(r -> TestResponses.ok(r, "x", List.of(1)));

        execute(args("--prompt-ids", "5, 6", "--temperature", "0.5"));

        InferenceRequest sent = gateway.sent.getFirst();
        assertThat(sent.getPromptTokenIds()).containsExactly(5, 6);
        assertThat(sent.getPrompt()).isNull();
        assertThat(sent.getParams().getTemperature()).isEqualTo(0.5f);
    }

    @Test
    void theConnectionComesFromTheEnvironmentLikeTheOtherKafkaFacingCommands() {
        gateway.respondWith(r -> TestResponses.ok(r, "x", List.of(1)));

        int exit = execute(Map.of("LORASTREAM_BOOTSTRAP_SERVERS", "env:9092", "LORASTREAM_SCHEMA_REGISTRY", "http://env:8081"), "--prompt", "hi");

        assertThat(exit).as(err()).isZero();
        assertThat(configSeen.get().bootstrapServers()).isEqualTo("env:9092");
        assertThat(configSeen.get().schemaRegistryUrl()).isEqualTo("http://env:8081");

        execute(Map.of("LORASTREAM_BOOTSTRAP_SERVERS", "env:9092", "LORASTREAM_SCHEMA_REGISTRY", "http://env:8081"), args("--prompt", "hi"));
        assertThat(configSeen.get().bootstrapServers()).as("the command line wins").isEqualTo("b:9092");
    }

    @Test
    void errorResponseIsPrintedAndExitsOne() {
        gateway.respondWith(r -> TestResponses.error(r, "UNKNOWN_ADAPTER", "adapter_id", "no adapter 'nope'"));

        int exit = execute(args("--adapter", "nope", "--prompt", "hi"));

        assertThat(exit).isEqualTo(1);
        assertThat(out()).contains("status: ERROR", "error_code: UNKNOWN_ADAPTER", "error_field: adapter_id", "error_message: no adapter 'nope'");
    }

    @Test
    void noResponseInTimeExitsOneWithAMessage() {
        int exit = execute(args("--prompt", "hi", "--timeout-s", "0.1"));

        assertThat(exit).isEqualTo(1);
        assertThat(err()).contains("no response for request");
    }

    @Test
    void timeoutBecomesTheClientTimeout() {
        gateway.respondWith(r -> TestResponses.ok(r, "x", List.of(1)));

        execute(args("--prompt", "hi", "--timeout-s", "2.5"));

        assertThat(configSeen.get().defaultTimeout()).isEqualTo(Duration.ofMillis(2500));
    }

    private void assertUsageError(String expected, String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        assertThat(execute(args)).as(err()).isEqualTo(2);
        assertThat(err()).contains(expected).contains("See 'submit --help'.");
        assertThat(out()).isEmpty();
        assertThat(configSeen.get()).as("no client opened").isNull();
    }

    @Test
    void badArgumentsExitTwoNamingTheOptionWithoutConnecting() {
        assertUsageError("--max-new-tokens must be at least 1", args("--prompt", "hi", "--max-new-tokens", "-3"));
        assertUsageError("Invalid value for option '--max-new-tokens': 'many' is not an int", args("--prompt", "hi", "--max-new-tokens", "many"));
        assertUsageError("--temperature must be between 0 and 2", args("--prompt", "hi", "--temperature", "2.5"));
        assertUsageError("--temperature must be between 0 and 2", args("--prompt", "hi", "--temperature", "-1"));
        assertUsageError("--timeout-s: ", args("--prompt", "hi", "--timeout-s", "0"));
        assertUsageError("--prompt-ids must be a comma-separated list of non-negative token ids", args("--prompt-ids", "1,x"));
        assertUsageError("--prompt-ids must be a comma-separated list of non-negative token ids", args("--prompt-ids", "1,-2"));
        assertUsageError("--adapter must not be empty", args("--prompt", "hi", "--adapter", " "));
        assertUsageError("--tenant must not be empty", args("--prompt", "hi", "--tenant", " "));
        assertUsageError("--prompt must not be empty", args("--prompt", ""));
        assertUsageError("Unknown options: '--adaptor', 'x'", args("--prompt", "hi", "--adaptor", "x"));
        assertUsageError("Missing required parameter for option '--prompt'", args("--prompt"));
        assertUsageError("--prompt=TEXT, --prompt-ids=ID[,ID...] are mutually exclusive", args("--prompt", "hi", "--prompt-ids", "1"));
        assertUsageError("Missing required argument (specify one of these): (--prompt=TEXT | --prompt-ids=ID[,ID...])", args());
        assertUsageError("expected only one match but got (--prompt=TEXT | --prompt-ids=ID[,ID...])={--prompt=a} and "
                + "(--prompt=TEXT | --prompt-ids=ID[,ID...])={--prompt=b}", args("--prompt", "a", "--prompt", "b"));
        assertUsageError("option '--tenant' (NAME) should be specified only once", args("--prompt", "a", "--tenant", "a", "--tenant", "b"));
        assertUsageError("unexpected argument 'extra'", args("--prompt", "a", "extra"));
        assertUsageError("needs --bootstrap-servers and --schema-registry", "--prompt", "hi");
        assertUsageError("--bootstrap-servers: Invalid value localhost for configuration bootstrap.servers",
                "--bootstrap-servers", "localhost", "--schema-registry", "http://r:1", "--prompt", "hi");
        assertUsageError("--schema-registry: Invalid value r:1 for configuration schema.registry.url",
                "--bootstrap-servers", "b:1", "--schema-registry", "r:1", "--prompt", "hi");
    }

    @Test
    void helpListsTheOptionsAndExitsZero() {
        assertThat(execute("--help")).isZero();
        assertThat(out()).contains("Usage: submit", "--bootstrap-servers", "--schema-registry", "--adapter", "--prompt=TEXT", "--prompt-ids",
                "--max-new-tokens", "(default: 32)", "--temperature", "--tenant", "(default: cli)", "--timeout-s", "(default: 60)", "Exit status");
    }

    @Test
    void theHelpCommandLineParsesIntoACheckedRequest() {
        CommandLine cl = Cli.commandLine(new SubmitCommand(), Map.of());
        cl.parseArgs(args("--adapter", "nutrition", "--prompt-ids", "1, 2,3", "--max-new-tokens", "5", "--tenant", "acme"));
        InferenceRequest r = cl.<SubmitCommand>getCommand().request();

        assertThat(r.getPromptTokenIds()).containsExactly(1, 2, 3);
        assertThat(r.getParams().getMaxNewTokens()).isEqualTo(5);
        assertThat(r.getTenant()).isEqualTo("acme");
    }
}
