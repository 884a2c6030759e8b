package dev.lorastream.launcher;

import dev.lorastream.engine.EngineConfig;
import dev.lorastream.ingest.AdapterAdmin;
import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.cli.Cli;
import dev.lorastream.schemas.cli.ConnectionOptions;
import dev.lorastream.schemas.registry.RememberingSchemaRegistryClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ./pipeline adapters add|list|remove}: adapters added, replaced and removed while the
 * pipeline serves, through the adapter store and adapters.catalog ({@link AdapterManager}).
 */
@Command(name = "adapters", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Add, list and remove LoRA adapters while the pipeline serves: no restart.",
                "An added adapter is validated against the backbone, copied into the adapter store and published on adapters.catalog,",
                "which every worker follows; adding an id again replaces its version everywhere; a removed one is refused with UNKNOWN_ADAPTER.",
                "Without --bootstrap-servers and --schema-registry it talks to the stack ./pipeline up starts with its default ports."},
        subcommands = {AdaptersCommand.Add.class, AdaptersCommand.ListCommand.class, AdaptersCommand.Remove.class})
final class AdaptersCommand implements Callable<Integer> {
    static final String UP_BOOTSTRAP = "127.0.0.1:9092", UP_REGISTRY = "http://127.0.0.1:8081/apis/ccompat/v7";

    @Spec CommandSpec spec;
    @Mixin ConnectionOptions connection;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "the work dir of the ./pipeline up whose demo models to use when --model and --adapters are left out (default: <checkout>/.work/up)")
    Path workDir;

    @Option(names = "--model", paramLabel = "DIR", description = "the backbone the adapters must fit (default: <work-dir>/models/backbone)")
    Path model;

    @Option(names = "--adapters", paramLabel = "DIR", description = "the adapter store: the directory the workers load adapters from (default: <work-dir>/models/adapters)")
    Path adapters;

    @Option(names = "--max-lora-rank", paramLabel = "R", defaultValue = "" + EngineConfig.DEFAULT_MAX_LORA_RANK,
            description = "the largest rank the workers accept (default: ${DEFAULT-VALUE})")
    int maxLoraRank;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return spec.exitCodeOnInvalidInput();
    }

    /** The manager these options describe; usage errors for half a connection and missing folders. */
    AdapterManager manager() {
        if ((connection.bootstrapServers() == null) != (connection.schemaRegistry() == null)) {
            throw Cli.usageError(spec, "--bootstrap-servers and --schema-registry go together");
        }
        Path root = Path.of(System.getProperty("lorastream.root", ".")).toAbsolutePath().normalize();
        Path work = workDir != null ? workDir.toAbsolutePath() : root.resolve(".work").resolve("up");
        Path modelDir = model != null ? model.toAbsolutePath() : work.resolve("models").resolve("backbone");
        Path store = adapters != null ? adapters.toAbsolutePath() : work.resolve("models").resolve("adapters");
        if (!dev.lorastream.engine.model.ModelConfig.isModelDir(modelDir)) throw Cli.usageError(spec, "no backbone at " + modelDir + " (give --model, or run ./pipeline up first)");
        if (!Files.isDirectory(store)) throw Cli.usageError(spec, "no adapter store at " + store + " (give --adapters, or run ./pipeline up first)");
        Connection c = connection.none() ? new Connection(UP_BOOTSTRAP, UP_REGISTRY) : new Connection(connection.bootstrapServers(), connection.schemaRegistry());
        var registry = RememberingSchemaRegistryClient.connect(c.schemaRegistryUrl());
        return new AdapterManager(c, registry, modelDir, store, maxLoraRank, () -> AdapterCatalog.read(c, registry, Duration.ofSeconds(10)));
    }

    static String line(AdapterDescriptor d) {
        StringBuilder b = new StringBuilder(String.format("%-24s %-20s rank %-3d %-28s %s", d.getAdapterId(), d.getVersion(), d.getRank(),
                String.join(",", d.getTargetModules()), d.getLocation()));
        if (!d.getContributors().isEmpty()) {
            b.append("  contributors ");
            d.getContributors().forEach(c -> b.append(c.getContributorId()).append('=').append(c.getShare()).append(' '));
        }
        if (d.getDescription() != null) b.append(" \"").append(d.getDescription()).append('"');
        return b.toString().stripTrailing();
    }

    @Command(name = "add", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Validate a PEFT adapter directory against the backbone, copy it into the store as ID and publish it (a new version when ID exists).")
    static final class Add implements Callable<Integer> {
        @ParentCommand AdaptersCommand parent;
        @Spec CommandSpec spec;

        @Parameters(index = "0", paramLabel = "DIR", description = "the PEFT adapter directory (adapter_config.json, adapter_model.safetensors)")
        Path dir;

        @Option(names = "--id", required = true, paramLabel = "ID", description = "the adapter id clients name as their model (1 to 128 of [A-Za-z0-9._-])")
        String id;

        @Option(names = "--contributor", paramLabel = "ID=SHARE", description = "a data contributor and its share of the adapter's usage (repeat; shares sum to 1)")
        Map<String, Double> contributors = new LinkedHashMap<>();

        @Option(names = "--description", paramLabel = "TEXT", description = "what the adapter is for")
        String description;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try {
                AdapterDescriptor d = parent.manager().add(id, dir.toAbsolutePath(), contributors, description);
                out.println("added " + line(d));
                out.flush();
                return 0;
            } catch (AdapterAdmin.Refused e) {
                String option = switch (e.field()) { case "id" -> "--id"; case "path" -> "DIR"; case "contributors" -> "--contributor"; default -> e.field(); };
                throw Cli.usageError(spec, option + ": " + e.reason());
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "The adapters adapters.catalog lists: id, version, rank, targets, location, contributors.")
    static final class ListCommand implements Callable<Integer> {
        @ParentCommand AdaptersCommand parent;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            var all = parent.manager().list();
            all.forEach(d -> out.println(line(d)));
            out.println(all.size() + " adapter" + (all.size() == 1 ? "" : "s"));
            out.flush();
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove an adapter from the store and the catalog: workers drop it from every tier and refuse it with UNKNOWN_ADAPTER.")
    static final class Remove implements Callable<Integer> {
        @ParentCommand AdaptersCommand parent;
        @Spec CommandSpec spec;

        @Parameters(index = "0", paramLabel = "ID", description = "the adapter id")
        String id;

        @Override
        public Integer call() {
            if (!parent.manager().remove(id)) throw Cli.usageError(spec, "no adapter '" + id + "' in the store or the catalog");
            spec.commandLine().getOut().println("removed " + id);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
