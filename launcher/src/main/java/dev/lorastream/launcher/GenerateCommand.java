package dev.lorastream.launcher;

import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.InvalidTaskException;
import dev.lorastream.engine.adapters.AdapterValidationException;
import dev.lorastream.engine.onnx.OnnxLoraEngine;

import dev.lorastream.schemas.cli.Cli;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code ./pipeline generate}: one greedy generation on the local engine, no Kafka; for checking
 * the engine against a reference and for debugging an adapter. Prints {@code tokens: <id>,...}
 * (the generated ids only) and, since every model the engine loads has a tokenizer (its
 * tokenizer.json, or the demo backbones' character tokenizer), {@code text: ...}: the generated
 * text with backslash, newline, carriage return, tab and other control characters escaped Java-style,
 * so that it stays one line.
 * <p>
 * Exit codes: 0 done; 2 the command line is wrong (options missing, unknown or contradicting,
 * malformed numbers, paths that do not exist, token ids outside the model's vocabulary, a prompt too
 * long for the model); 1 the files are wrong (not a model directory, a refused adapter) or
 * generation failed.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"One greedy generation on the local engine, no Kafka.",
                "Prints the generated token ids (tokens: 1,2,...) and their text on one line (text: ..., control characters "
                + "escaped), on the CPU: for checking the engine against a reference and for debugging an adapter."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:done", "1:the files are wrong (not a model directory, a refused adapter) or generation failed",
                "2:a bad command line (including token ids outside the vocabulary, a prompt too long for the model)"})
final class GenerateCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "backbone model directory (config.json, safetensors, tokenizer)")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "one PEFT adapter directory; left out, the plain backbone generates")
    Path adapter;

    @ArgGroup(multiplicity = "1")
    Prompt prompt;

    /** The prompt: text or token ids, one of them. */
    static final class Prompt {
        @Option(names = "--prompt", paramLabel = "TEXT", required = true, description = "the prompt, through the model's tokenizer")
        String text;

        @Option(names = "--prompt-ids", paramLabel = "ID[,ID...]", required = true, description = "the prompt as token ids")
        String ids;
    }

    @Option(names = "--max-new-tokens", paramLabel = "N", required = true, description = "tokens to generate, at least 1")
    int maxNewTokens;

    @Option(names = "--ignore-eos", description = "go on past the end-of-sequence token")
    boolean ignoreEos;

    @Override
    public Integer call() {
        Request request = request();
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try (AdapterView view = request.adapter() == null ? null : AdapterView.of(request.adapter())) {
            return generate(request, view, out, err);
        } catch (IOException | UncheckedIOException e) {
            err.println("generate: " + e.getMessage());
            return 1;
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** The checked command line (usage errors for a path that is no directory, malformed token ids, too few new tokens). */
    Request request() {
        directory("--model", model);
        directory("--adapter", adapter);
        if (maxNewTokens < 1) throw Cli.usageError(spec, "--max-new-tokens must be at least 1, got " + maxNewTokens);
        int[] ids = prompt.ids == null ? null : ids(prompt.ids);
        return new Request(model, adapter, prompt.text, ids, maxNewTokens, ignoreEos);
    }

    private void directory(String option, Path p) {
        if (p != null && !Files.isDirectory(p)) throw Cli.usageError(spec, option + " " + p + ": no such directory");
    }

    private int[] ids(String list) {
        String[] parts = list.split(",", -1);
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String s = parts[i].trim();
            try {
                ids[i] = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw Cli.usageError(spec, "--prompt-ids: '" + s + "' (position " + i + ") is not an integer");
            }
            if (ids[i] < 0) throw Cli.usageError(spec, "--prompt-ids: " + ids[i] + " (position " + i + ") is negative");
        }
        return ids;
    }

    private static int generate(Request request, AdapterView view, PrintWriter out, PrintWriter err) {
        if (!dev.lorastream.engine.model.ModelConfig.isModelDir(request.model())) {
            err.println("generate: --model " + request.model() + " is not a model directory: it has no config.json");
            return 1;
        }
        EngineConfig config = new EngineConfig(request.model(), view == null ? null : view.root(), "cpu", 1);
        OnnxLoraEngine engine;
        try {
            engine = OnnxLoraEngine.open(config);
        } catch (RuntimeException e) {
            err.println("generate: cannot load the model " + request.model() + ": " + e.getMessage());
            return 1;
        }
        try (engine) {
            String adapterId = null;
            if (view != null) {
                String refused = engine.failedAdapters().get(view.id());
                if (refused != null) {
                    err.println("generate: adapter " + request.adapter() + " refused: " + view.unstage(refused));
                    return 1;
                }
                adapterId = view.id();
            }
            int[] prompt;
            if (request.promptIds() != null) {
                prompt = request.promptIds();
                int vocab = engine.model().vocabSize();
                for (int id : prompt) {
                    if (id >= vocab) return usage(err, "--prompt-ids: " + id + " is outside the model's vocabulary [0, " + vocab + ")");
                }
            } else {
                try {
                    prompt = engine.encode(request.prompt());
                } catch (RuntimeException e) {
                    err.println("generate: the prompt cannot be tokenized: " + e.getMessage());
                    return 1;
                }
            }
            GenerationTask task = new GenerationTask("generate", adapterId, prompt, request.maxNewTokens(), 0f, 1f, 0, null, request.ignoreEos());
            try {
                engine.validate(task);
            } catch (InvalidTaskException e) {
                if (view != null && "adapter_id".equals(e.field())) { // an engine that loads adapters on first use refuses them here
                    err.println("generate: adapter " + request.adapter() + " refused: " + view.unstage(e.getMessage()));
                    return 1;
                }
                return usage(err, e.field() + ": " + e.getMessage());
            }
            Generation g;
            try {
                g = engine.generate(List.of(task)).getFirst();
            } catch (RuntimeException e) {
                String refused = view == null ? null : refusal(e, engine.failedAdapters().get(view.id()));
                if (refused != null) {
                    err.println("generate: adapter " + request.adapter() + " refused: " + view.unstage(refused));
                } else {
                    err.println("generate: generation failed: " + (view == null ? e.getMessage() : view.unstage(String.valueOf(e.getMessage()))));
                }
                return 1;
            }
            out.println("tokens: " + Arrays.stream(g.tokenIds()).mapToObj(Integer::toString).collect(Collectors.joining(",")));
            out.println("text: " + escape(engine.decode(g.tokenIds())));
            return 0;
        }
    }

    /** Why the adapter was refused, when that is what made generation fail (an engine may load adapters on first use); else null. */
    private static String refusal(Throwable failure, String recorded) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof AdapterValidationException a) return a.getMessage();
        }
        return recorded;
    }

    private static int usage(PrintWriter err, String message) {
        err.println("generate: " + message);
        return 2;
    }

    /** The text on one line: backslash and control characters escaped as in Java string literals. */
    static String escape(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (Character.isISOControl(c) || Character.getType(c) == Character.LINE_SEPARATOR
                            || Character.getType(c) == Character.PARAGRAPH_SEPARATOR) {
                        sb.append(String.format("\\u%04x", c));
                    } else {
                        sb.appendCodePoint(c);
                    }
                }
            }
        });
        return sb.toString();
    }

    /** The checked command line. */
    record Request(Path model, Path adapter, String prompt, int[] promptIds, int maxNewTokens, boolean ignoreEos) {}

    /**
     * The engine loads adapters from a directory holding one subdirectory per adapter id: this
     * is such a directory in the temp dir, with one symbolic link to the adapter, named by a
     * legal adapter id made from the adapter directory's name.
     */
    record AdapterView(Path root, String id, Path target) implements AutoCloseable {
        static AdapterView of(Path adapter) throws IOException {
            Path target = adapter.toRealPath();
            String name = target.getFileName() == null ? "" : target.getFileName().toString();
            String id = name.replaceAll("[^A-Za-z0-9._-]", "-").replaceFirst("^[^A-Za-z0-9]+", "");
            if (id.isEmpty()) id = "adapter";
            if (id.length() > 128) id = id.substring(0, 128);
            Path root = Files.createTempDirectory("lorastream-generate-");
            try {
                Files.createSymbolicLink(root.resolve(id), target);
            } catch (IOException | UnsupportedOperationException e) {
                Files.deleteIfExists(root);
                throw new IOException("cannot stage adapter " + adapter + " for the engine in " + root + ": " + e.getMessage(), e);
            }
            return new AdapterView(root, id, target);
        }

        /** An engine message about the staged link, naming the user's adapter directory instead. */
        String unstage(String message) {
            return message.replace(root.resolve(id).toString(), target.toString());
        }

        /** Removes the link and the directory; the adapter itself is untouched. A leftover in the temp dir is harmless, so failures are ignored. */
        @Override
        public void close() {
            try {
                Files.deleteIfExists(root.resolve(id));
                Files.deleteIfExists(root);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }
}
