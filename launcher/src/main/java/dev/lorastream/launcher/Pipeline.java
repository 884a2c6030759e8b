package dev.lorastream.launcher;

import dev.lorastream.ingest.KeysCommand;
import dev.lorastream.ingest.SubmitCommand;
import dev.lorastream.router.RouterCommand;
import dev.lorastream.schemas.cli.Cli;
import dev.lorastream.sink.SinkCommand;
import dev.lorastream.worker.WorkerCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Entry point of {@code ./pipeline}: one command tree, one subcommand per job. {@code router},
 * {@code worker} and {@code sink} are the components' own commands (also their mains), which the
 * launcher runs after making sure the topics and schema subjects exist ({@link Components#provision});
 * {@code bench-cpu}, {@code bench-fleet} and {@code bench-stream} are run by the ./pipeline script from the bench module.
 */
@Command(name = "pipeline", mixinStandardHelpOptions = true,
        description = "lorastream: many LoRA adapters on one backbone, served over Kafka.",
        commandListHeading = "%nCommands:%n",
        footer = {"%nBenchmarks, run by ./pipeline from the bench module (in no production artifact):",
                "  bench-cpu   the engine's CPU benchmark",
                "  bench-fleet placement at fleet scale on simulated workers, hash vs load-aware",
                "  bench-stream time to the first streamed token through Kafka minus the engine's own",
                "%n./pipeline <command> --help shows the command's options."})
public final class Pipeline implements Callable<Integer> {
    @Spec CommandSpec spec;

    private Pipeline() {}

    public static void main(String[] args) {
        System.exit(run(args, System.getenv()));
    }

    static int run(String[] args, Map<String, String> env) {
        return commandLine(env).execute(args);
    }

    /** The command tree, reading options missing from the command line from {@code env}. */
    static CommandLine commandLine(Map<String, String> env) {
        CommandLine pipeline = new CommandLine(new Pipeline());
        pipeline.addSubcommand(new DemoCommand());
        pipeline.addSubcommand(new UpCommand());
        pipeline.addSubcommand(new PlatformCommand());
        pipeline.addSubcommand(new SubmitCommand());
        pipeline.addSubcommand(new ReportCommand());
        pipeline.addSubcommand(new GenerateCommand());
        pipeline.addSubcommand(new RouterCommand(config -> Components.provision(new Connection(config.bootstrapServers(), config.schemaRegistryUrl()))));
        // a CommandLine of its own, so that picocli applies the command's model transformer (its help's list of --set keys)
        pipeline.addSubcommand(new CommandLine(new WorkerCommand((config, engine) -> {
            Connection c = new Connection(config.bootstrapServers(), config.schemaRegistryUrl());
            var registry = Components.provision(c);
            if (config.simulated()) {
                System.out.println("worker: SIMULATED engine (" + engine.model().baseModel() + "), " + engine.adapterIds().size()
                        + " simulated adapters; no catalog published");
            } else {
                AdapterCatalog.publish(c, registry, AdapterCatalog.describe(engine, config.adapterDir()));
            }
        })));
        pipeline.addSubcommand(new SinkCommand(config -> Components.provision(new Connection(config.bootstrapServers(), config.schemaRegistryUrl()))));
        pipeline.addSubcommand(new HttpCommand());
        pipeline.addSubcommand(new AdaptersCommand());
        pipeline.addSubcommand(new KeysCommand());
        pipeline.addSubcommand(new CommandLine.HelpCommand());
        return Cli.configure(pipeline, env);
    }

    /** No command: the usage on standard error, exit status 2. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        spec.commandLine().getErr().flush();
        return spec.exitCodeOnInvalidInput();
    }
}
