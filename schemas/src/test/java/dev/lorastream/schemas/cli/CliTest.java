package dev.lorastream.schemas.cli;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.concurrent.Callable;

import static org.assertj.core.api.Assertions.assertThat;

/** The behaviour every lorastream command line shares: environment, defaults from the configuration, errors naming the option. */
class CliTest {
    static final ConfigDef DEFINITION = new ConfigDef()
            .define("bootstrap.servers", ConfigDef.Type.STRING, ConfigDef.NO_DEFAULT_VALUE, ConfigDef.Importance.HIGH, "brokers")
            .define("schema.registry.url", ConfigDef.Type.STRING, ConfigDef.NO_DEFAULT_VALUE, ConfigDef.Importance.HIGH, "registry")
            .define("thing.rate", ConfigDef.Type.DOUBLE, 0.25, ConfigDef.Range.between(0, 1), ConfigDef.Importance.LOW, "a rate");

    @Command(name = "thing", mixinStandardHelpOptions = true)
    static final class Thing implements Callable<Integer>, SettingDefaults {
        @Spec CommandSpec spec;
        @Mixin ConnectionOptions connection;

        @Option(names = "--rate", paramLabel = "R", description = "how often (default: ${DEFAULT-VALUE})")
        @Setting("thing.rate")
        String rate;

        @Option(names = "--port", paramLabel = "PORT", defaultValue = "7", converter = Port.class, description = "a port (default: ${DEFAULT-VALUE})")
        int port;

        AbstractConfig config;

        @Override
        public Integer call() {
            connection.require();
            config = Settings.build(spec, Settings.of(spec), props -> new AbstractConfig(DEFINITION, props, false));
            return 0;
        }

        @Override
        public String defaultOf(String key) { return SettingDefaults.of(DEFINITION).defaultOf(key); }
    }

    @Command(name = "parent", subcommands = Thing.class)
    static final class Parent {}

    private final StringWriter out = new StringWriter(), err = new StringWriter();

    private int run(Object command, Map<String, String> env, String... args) {
        return Cli.commandLine(command, env).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
    }

    @Test
    void optionsComeFromTheCommandLineThenTheEnvironmentThenTheConfigsDefault() {
        Thing thing = new Thing();
        assertThat(run(thing, Map.of("LORASTREAM_BOOTSTRAP_SERVERS", "env:1", "LORASTREAM_SCHEMA_REGISTRY", "http://env", "LORASTREAM_PORT", "9"),
                "--bootstrap-servers", "cli:1")).isZero();
        assertThat(thing.config.getString("bootstrap.servers")).isEqualTo("cli:1");
        assertThat(thing.config.getString("schema.registry.url")).isEqualTo("http://env");
        assertThat(thing.config.getDouble("thing.rate")).isEqualTo(0.25);
        assertThat(thing.port).isEqualTo(9);
    }

    @Test
    void helpShowsTheConfigsDefaultAndTheEnvironmentVariables() {
        assertThat(run(new Thing(), Map.of(), "--help")).isZero();
        assertThat(out.toString()).contains("--rate=R", "how often (default: 0.25)", "a port (default: 7)", "LORASTREAM_BOOTSTRAP_SERVERS");
    }

    @Test
    void aRefusedSettingIsAUsageErrorNamingTheOption() {
        assertThat(run(new Thing(), Map.of(), "--bootstrap-servers", "b:1", "--schema-registry", "http://r", "--rate", "abc")).isEqualTo(2);
        assertThat(err.toString()).contains("thing: --rate: Invalid value abc for configuration thing.rate", "See 'thing --help'.");
    }

    @Test
    void explainNamesTheOptionOfTheFirstKeyTheMessageNames() {
        CommandSpec spec = Cli.commandLine(new Thing(), Map.of()).getCommandSpec();
        ConfigException e = new ConfigException("thing.rate.max (3) is less than thing.rate (5)");
        assertThat(Settings.explain(spec, e, Settings.optionsByKey(spec)).getMessage()).startsWith("--rate: ");
        assertThat(Settings.explain(spec, new ConfigException("thing.rates is unknown"), Settings.optionsByKey(spec)).getMessage())
                .isEqualTo("thing.rates is unknown");
    }

    @Test
    void unknownOptionsCommandsAndArgumentsAreUsageErrors() {
        assertThat(run(new Thing(), Map.of(), "--nope")).isEqualTo(2);
        assertThat(err.toString()).contains("thing: Unknown option: '--nope'");
        assertThat(run(new Thing(), Map.of(), "stray")).isEqualTo(2);
        assertThat(err.toString()).contains("thing: unexpected argument 'stray'");
        assertThat(run(new Parent(), Map.of(), "thin")).isEqualTo(2);
        assertThat(err.toString()).contains("parent: unknown command 'thin'");
        assertThat(run(new Thing(), Map.of(), "--port", "65536")).isEqualTo(2);
        assertThat(err.toString()).contains("Invalid value for option '--port': 65536 is not a port");
    }

    @Test
    void aMissingConnectionIsAUsageError() {
        assertThat(run(new Thing(), Map.of(), "--bootstrap-servers", "b:1")).isEqualTo(2);
        assertThat(err.toString()).contains("thing: needs --bootstrap-servers and --schema-registry (or LORASTREAM_BOOTSTRAP_SERVERS");
    }

    @Test
    void aFailureWhileRunningExitsOne() {
        @Command(name = "boom")
        final class Boom implements Callable<Integer> {
            @Override
            public Integer call() { throw new IllegalStateException("no luck"); }
        }
        assertThat(run(new Boom(), Map.of())).isEqualTo(1);
        assertThat(err.toString()).contains("boom failed: no luck");
    }

    @Test
    void theEnvironmentVariableOfAnOption() {
        CommandSpec spec = CommandLine.Model.CommandSpec.create().addOption(CommandLine.Model.OptionSpec.builder("--max-new-tokens").build());
        assertThat(Cli.variable(spec.findOption("max-new-tokens"))).isEqualTo("LORASTREAM_MAX_NEW_TOKENS");
    }
}
