package dev.lorastream.schemas.cli;

import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * How every lorastream command line behaves (./pipeline and its subcommands, and the components'
 * own mains, which run the same command classes):
 * <ul>
 * <li>every option can also be set in the environment as {@code LORASTREAM_<OPTION>} (dashes as
 *     underscores: {@code --bootstrap-servers} is {@code LORASTREAM_BOOTSTRAP_SERVERS}; that is how
 *     docker-compose configures the components); the command line wins;</li>
 * <li>an option that sets a configuration key ({@link Setting}) shows that configuration's default;</li>
 * <li>a bad command line (unknown option, bad value, missing option, a refused setting) prints what is
 *     wrong, naming the option, and exits 2; a failure while running prints it and exits 1.</li>
 * </ul>
 */
public final class Cli {
    public static final String ENV_PREFIX = "LORASTREAM_";
    static final int WIDTH = 100;

    private Cli() {}

    /** The command line of {@code command} (and of the subcommands its annotations name), configured as above. */
    public static CommandLine commandLine(Object command, Map<String, String> env) {
        return configure(new CommandLine(command), env);
    }

    /** Configures {@code commandLine} and every subcommand it has now (add them first). */
    public static CommandLine configure(CommandLine commandLine, Map<String, String> env) {
        commandLine.setDefaultValueProvider(new Defaults(Map.copyOf(env)));
        commandLine.setParameterExceptionHandler(Cli::printUsageError);
        commandLine.setExecutionExceptionHandler(Cli::printFailure);
        commandLine.setUsageHelpWidth(WIDTH);
        commandLine.setUsageHelpLongOptionsMaxWidth(36);
        describe(commandLine);
        return commandLine;
    }

    /** Runs {@code command} on {@code args} with the process's environment; returns the exit status. */
    public static int run(Object command, String[] args) {
        return commandLine(command, System.getenv()).execute(args);
    }

    /** The environment variable of an option: {@code --max-batch} is {@code LORASTREAM_MAX_BATCH}. */
    public static String variable(OptionSpec option) {
        return ENV_PREFIX + option.longestName().replaceFirst("^-+", "").toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** A usage error of the command (printed naming the command; exit status 2). */
    public static ParameterException usageError(CommandSpec command, String message) {
        return new ParameterException(command.commandLine(), message);
    }

    private static void describe(CommandLine commandLine) {
        CommandSpec spec = commandLine.getCommandSpec();
        spec.versionProvider(new Version());
        OptionSpec example = spec.options().stream().filter(o -> !o.usageHelp() && !o.versionHelp()).findFirst().orElse(null);
        if (example != null) {
            List<String> footer = new ArrayList<>(Arrays.asList(spec.usageMessage().footer()));
            footer.add("%nEvery option can also be set in the environment as " + ENV_PREFIX + "<OPTION>, e.g. "
                    + variable(example) + " for " + example.longestName() + "; the command line wins.");
            spec.usageMessage().footer(footer.toArray(String[]::new));
        }
        for (CommandLine sub : new java.util.LinkedHashSet<>(commandLine.getSubcommands().values())) describe(sub);
    }

    private static int printUsageError(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        String name = command.getCommandSpec().qualifiedName();
        err.println(name + ": " + message(e));
        UnmatchedArgumentException.printSuggestions(e, err);
        err.println("See '" + name + " --help'.");
        err.flush();
        return command.getCommandSpec().exitCodeOnInvalidInput();
    }

    private static String message(ParameterException e) {
        if (e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty() && !u.getUnmatched().getFirst().startsWith("-")) {
            String arg = u.getUnmatched().getFirst();
            return e.getCommandLine().getSubcommands().isEmpty() ? "unexpected argument '" + arg + "'" : "unknown command '" + arg + "'";
        }
        return e.getMessage();
    }

    private static int printFailure(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
        PrintWriter err = command.getErr();
        String name = command.getCommandSpec().qualifiedName();
        if (e instanceof ConfigException) {
            err.println(name + ": bad setting: " + e.getMessage());
            err.flush();
            return command.getCommandSpec().exitCodeOnInvalidInput();
        }
        err.println(name + " failed: " + e.getMessage());
        e.printStackTrace(err);
        err.flush();
        return command.getCommandSpec().exitCodeOnExecutionException();
    }

    /**
     * An option's value when the command line does not give it: its environment variable, else the
     * default of the key it sets (from the {@link SettingDefaults} that declares it), else the
     * option's own {@code defaultValue}.
     */
    static final class Defaults implements IDefaultValueProvider {
        private final Map<String, String> env;

        Defaults(Map<String, String> env) { this.env = env; }

        @Override
        public String defaultValue(ArgSpec arg) throws Exception {
            if (!(arg instanceof OptionSpec option) || option.usageHelp() || option.versionHelp() || arg.group() != null) return null;
            String value = env.get(variable(option));
            if (value != null && !value.isBlank()) return value;
            String key = Settings.key(option);
            if (key != null && option.scope() != null && option.scope().get() instanceof SettingDefaults defaults) return defaults.defaultOf(key);
            return null;
        }
    }

    /** "lorastream VERSION", from the build's pom.properties (absent when not run from the jars). */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            try (InputStream in = Cli.class.getResourceAsStream("/META-INF/maven/dev.lorastream/schemas/pom.properties")) {
                if (in == null) return new String[] {"lorastream (version unknown: not run from its jars)"};
                Properties p = new Properties();
                p.load(in);
                return new String[] {"lorastream " + Objects.requireNonNullElse(p.getProperty("version"), "(version unknown)")};
            }
        }
    }
}
