package dev.lorastream.sink;

import dev.lorastream.schemas.cli.Cli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code sink} (./pipeline sink and SinkMain): its options become the SinkConfig; no Kafka. */
class SinkCommandTest {
    private final StringWriter out = new StringWriter(), err = new StringWriter();

    private static SinkConfig config(Map<String, String> env, String... args) {
        CommandLine cl = Cli.commandLine(new SinkCommand(), env);
        cl.parseArgs(args);
        return cl.<SinkCommand>getCommand().config();
    }

    private int execute(String... args) {
        return Cli.commandLine(new SinkCommand(), Map.of()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
    }

    @Test
    void theCommandLineBecomesAConfig() {
        SinkConfig config = config(Map.of(), "--bootstrap-servers", "h:1", "--schema-registry", "http://r:2",
                "--data-dir", "/var/sink", "--group-id", "g", "--batch-size", "50", "--flush-interval-ms", "250", "--no-parquet");

        assertThat(config.bootstrapServers()).isEqualTo("h:1");
        assertThat(config.schemaRegistryUrl()).isEqualTo("http://r:2");
        assertThat(config.dataDir()).isEqualTo(Path.of("/var/sink"));
        assertThat(config.groupId()).isEqualTo("g");
        assertThat(config.batchSize()).isEqualTo(50);
        assertThat(config.flushInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(config.parquetExport()).isFalse();
    }

    @Test
    void groupMembershipOptions() {
        SinkConfig config = config(Map.of(), "--bootstrap-servers", "h:1", "--schema-registry", "http://r:2",
                "--instance-id", "sink-a", "--session-timeout-ms", "6000", "--leave-group", "false");
        assertThat(config.configuredInstanceId()).isEqualTo("sink-a");
        assertThat(config.sessionTimeout()).isEqualTo(Duration.ofMillis(6000));
        assertThat(config.leaveGroupOnClose()).isFalse();

        SinkConfig defaults = config(Map.of(), "--bootstrap-servers", "h:1", "--schema-registry", "http://r:2");
        assertThat(defaults.configuredInstanceId()).as("derived when it runs").isNull();
        assertThat(defaults.sessionTimeout()).isEqualTo(Duration.ofMillis(7000));
        assertThat(defaults.leaveGroupOnClose()).isTrue();
        assertThat(config(Map.of(), "--bootstrap-servers", "h:1", "--schema-registry", "http://r:2", "--leave-group", "true").leaveGroupOnClose()).isTrue();
    }

    @Test
    void withoutOptionsEveryKeyKeepsTheConfigsDefault() {
        assertThat(config(Map.of(), "--bootstrap-servers", "h:1", "--schema-registry", "http://r:2").toString())
                .isEqualTo(SinkConfig.builder("h:1", "http://r:2").build().toString());
    }

    @Test
    void optionsComeFromTheEnvironment() {
        SinkConfig config = config(Map.of("LORASTREAM_BOOTSTRAP_SERVERS", "h:1", "LORASTREAM_SCHEMA_REGISTRY", "http://r:2",
                "LORASTREAM_DATA_DIR", "/data"));

        assertThat(config.dataDir()).isEqualTo(Path.of("/data"));
    }

    @Test
    void badValuesAndUnknownOptionsAreUsageErrorsNamingTheOption() {
        assertThat(execute("--bootstrap-servers", "h:1", "--schema-registry", "http://r:2", "--batch-size", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("sink: --batch-size: ", "batch.size");

        err.getBuffer().setLength(0);
        assertThat(execute("--bootstrap", "h:1")).isEqualTo(2);
        assertThat(err.toString()).contains("sink: Unknown option", "'--bootstrap'");

        err.getBuffer().setLength(0);
        assertThat(execute("--data-dir", "/x")).isEqualTo(2);
        assertThat(err.toString()).contains("needs --bootstrap-servers and --schema-registry");
    }

    @Test
    void helpListsTheOptions() {
        assertThat(execute("--help")).isZero();
        assertThat(out.toString()).contains("--bootstrap-servers", "--schema-registry", "--data-dir", "--group-id", "--batch-size",
                "--flush-interval-ms", "--no-parquet", "--instance-id", "--session-timeout-ms", "--leave-group", "(default: data)", "(default: " + SinkConfig.DEFAULT_GROUP_ID + ")");
    }
}
