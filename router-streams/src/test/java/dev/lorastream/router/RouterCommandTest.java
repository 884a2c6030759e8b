package dev.lorastream.router;

import dev.lorastream.schemas.cli.Cli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code router} (./pipeline router and RouterMain): its options become the RouterConfig; no Kafka. */
class RouterCommandTest {
    private final StringWriter out = new StringWriter(), err = new StringWriter();

    private static RouterCommand parse(Map<String, String> env, String... args) {
        CommandLine cl = Cli.commandLine(new RouterCommand(), env);
        cl.parseArgs(args);
        return cl.getCommand();
    }

    private int execute(Map<String, String> env, String... args) {
        return Cli.commandLine(new RouterCommand(), env).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
    }

    @Test
    void theOptionsBecomeTheRouterConfig() {
        RouterCommand command = parse(Map.of(), "--bootstrap-servers", "127.0.0.1:9092", "--schema-registry=http://127.0.0.1:8081",
                "--state-dir", "/tmp/router-x", "--application-id", "r-1", "--placement", "hash", "--worker-timeout-ms", "5000",
                "--busy-at", "0.5", "--metrics-port", "0");
        RouterConfig config = command.config();

        assertThat(config.bootstrapServers()).isEqualTo("127.0.0.1:9092");
        assertThat(config.schemaRegistryUrl()).isEqualTo("http://127.0.0.1:8081");
        assertThat(config.stateDir()).isEqualTo(Path.of("/tmp/router-x"));
        assertThat(config.applicationId()).isEqualTo("r-1");
        assertThat(config.loadAwarePlacement()).isFalse();
        assertThat(config.workerTimeout()).isEqualTo(Duration.ofMillis(5000));
        assertThat(config.busyAt()).isEqualTo(0.5);
        assertThat(command.metricsPort()).isZero();
    }

    @Test
    void withoutOptionsEveryKeyKeepsTheConfigsDefault() {
        RouterCommand command = parse(Map.of(), "--bootstrap-servers", "b:9092", "--schema-registry", "http://r:1");

        assertThat(command.config().values()).isEqualTo(RouterConfig.of("b:9092", "http://r:1").values());
        assertThat(command.metricsPort()).isEqualTo(9401);
    }

    @Test
    void theConnectionComesFromTheEnvironmentWhenNotGiven() {
        RouterConfig config = parse(Map.of("LORASTREAM_BOOTSTRAP_SERVERS", "env:9092", "LORASTREAM_SCHEMA_REGISTRY", "http://env:8081",
                "LORASTREAM_PLACEMENT", "hash")).config();

        assertThat(config.bootstrapServers()).isEqualTo("env:9092");
        assertThat(config.schemaRegistryUrl()).isEqualTo("http://env:8081");
        assertThat(config.loadAwarePlacement()).isFalse();
    }

    @Test
    void aMissingConnectionIsAUsageError() {
        assertThat(execute(Map.of(), "--bootstrap-servers", "b:9092")).isEqualTo(2);
        assertThat(err.toString()).contains("router: needs --bootstrap-servers and --schema-registry");
    }

    @Test
    void badValuesAndUnknownOptionsAreUsageErrorsNamingTheOption() {
        assertThat(execute(Map.of(), "--bootstrap-servers", "b:9092", "--schema-registry", "http://r:1", "--busy-at", "abc")).isEqualTo(2);
        assertThat(err.toString()).contains("router: --busy-at: ", "router.placement.busy.at");

        err.getBuffer().setLength(0);
        assertThat(execute(Map.of(), "--bootstrap-servers", "b:9092", "--schema-registry", "http://r:1", "--placement", "random")).isEqualTo(2);
        assertThat(err.toString()).contains("router: --placement: ");

        err.getBuffer().setLength(0);
        assertThat(execute(Map.of(), "--bootstrap", "b:9092")).isEqualTo(2);
        assertThat(err.toString()).contains("router: Unknown option", "'--bootstrap'", "Possible solutions: --bootstrap-servers");

        err.getBuffer().setLength(0);
        assertThat(execute(Map.of(), "--schema-registry", "http://r:1", "--bootstrap-servers")).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required parameter for option '--bootstrap-servers'");
    }

    @Test
    void helpListsTheOptionsWithTheConfigsDefaults() {
        assertThat(execute(Map.of(), "--help")).isZero();
        String help = out.toString();
        for (String option : List.of("--bootstrap-servers", "--schema-registry", "--placement", "--worker-timeout-ms", "--busy-at",
                "--state-dir", "--application-id", "--instance-id", "--session-timeout-ms", "--leave-group", "--metrics-port")) {
            assertThat(help).contains(option);
        }
        RouterConfig defaults = RouterConfig.of("b:1", "http://r:1");
        assertThat(help).contains("(default: " + defaults.busyAt() + ")", "(default: " + defaults.workerTimeout().toMillis() + ")",
                "(default: 9401)", "(default: " + defaults.sessionTimeout().toMillis() + ")");
    }
}
