package dev.lorastream.ingest;

import dev.lorastream.schemas.ErrorInfo;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.Timings;
import dev.lorastream.schemas.cli.Cli;
import dev.lorastream.schemas.cli.ConnectionOptions;
import dev.lorastream.schemas.cli.Settings;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * {@code submit}: sends one request, waits for its response and prints it. Exit status 0 for an
 * OK response, 1 for an ERROR response (or none in time, or a transport failure), 2 for bad
 * arguments (the message names the option). The connection and the timeout are checked by
 * {@link ClientConfig}, the request's fields here.
 */
@Command(name = "submit", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Send one request through Kafka and print its response.",
                "Waits for the response and prints it as key: value lines."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:an OK response", "1:an ERROR response, no response in time, or a transport failure", "2:a bad command line"})
public final class SubmitCommand implements Callable<Integer> {
    public static final int EXIT_OK = 0;
    public static final int EXIT_ERROR = 1;

    @Spec CommandSpec spec;

    @Mixin ConnectionOptions connection;

    @Option(names = "--adapter", paramLabel = "ID", description = "LoRA adapter id; left out, the plain backbone serves the request")
    String adapter;

    @ArgGroup(multiplicity = "1")
    Prompt prompt;

    /** The prompt: text or token ids, one of them. */
    static final class Prompt {
        @Option(names = "--prompt", paramLabel = "TEXT", required = true, description = "the prompt, tokenized by the worker's model")
        String text;

        @Option(names = "--prompt-ids", paramLabel = "ID[,ID...]", required = true, description = "the prompt as token ids")
        String ids;
    }

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "32", description = "tokens to generate, at least 1 (default: ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0", description = "0 (greedy) to 2 (default: ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--tenant", paramLabel = "NAME", defaultValue = "cli", description = "who pays for the request (default: ${DEFAULT-VALUE})")
    String tenant;

    @Option(names = "--timeout-s", paramLabel = "SECONDS", defaultValue = "60", description = "how long to wait for the response (default: ${DEFAULT-VALUE})")
    double timeoutS;

    private final Function<ClientConfig, InferenceClient> clients;

    public SubmitCommand() { this(InferenceClient::new); }

    /** @param clients opens the client for the parsed settings (tests substitute one without Kafka) */
    public SubmitCommand(Function<ClientConfig, InferenceClient> clients) {
        this.clients = Objects.requireNonNull(clients);
    }

    public static void main(String[] args) {
        System.exit(Cli.run(new SubmitCommand(), args));
    }

    /** The settings of the client this command uses: the connection and the timeout, checked by {@link ClientConfig}. */
    public ClientConfig clientConfig() {
        connection.require();
        Map<String, Object> props = Settings.of(spec);
        props.put(ClientConfig.CLIENT_ID, "lorastream-submit");
        long timeoutMs = Math.round(timeoutS * 1000);
        props.put(ClientConfig.DEFAULT_TIMEOUT_MS, timeoutMs);
        try {
            return ClientConfig.from(props);
        } catch (ConfigException e) {
            Map<String, String> options = new LinkedHashMap<>(Settings.optionsByKey(spec));
            options.put(ClientConfig.DEFAULT_TIMEOUT_MS, "--timeout-s");
            throw Settings.explain(spec, e, options);
        }
    }

    /** The request the parsed command line describes, its fields checked. */
    public InferenceRequest request() {
        if (adapter != null && adapter.isBlank()) throw Cli.usageError(spec, "--adapter must not be empty (leave it out for the backbone)");
        if (prompt.text != null && prompt.text.isEmpty()) throw Cli.usageError(spec, "--prompt must not be empty");
        if (maxNewTokens < 1) throw Cli.usageError(spec, "--max-new-tokens must be at least 1, got " + maxNewTokens);
        if (!(temperature >= 0f && temperature <= 2f)) throw Cli.usageError(spec, "--temperature must be between 0 and 2, got " + temperature);
        if (tenant.isBlank()) throw Cli.usageError(spec, "--tenant must not be empty");
        InferenceRequest request = prompt.text != null
                ? Requests.text(tenant, adapter, prompt.text, maxNewTokens)
                : Requests.tokens(tenant, adapter, tokenIds(prompt.ids), maxNewTokens);
        request.getParams().setTemperature(temperature);
        return request;
    }

    @Override
    public Integer call() {
        InferenceRequest request = request();
        ClientConfig config = clientConfig();
        PrintWriter out = spec.commandLine().getOut();
        InferenceResponse response;
        try (InferenceClient client = clients.apply(config)) {
            response = client.call(request, config.defaultTimeout());
        } catch (RuntimeException e) {
            spec.commandLine().getErr().println("submit: request " + request.getRequestId() + " failed: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return EXIT_ERROR;
        }
        out.print(format(response));
        out.flush();
        return response.getStatus() == ResponseStatus.OK ? EXIT_OK : EXIT_ERROR;
    }

    private List<Integer> tokenIds(String value) {
        List<Integer> ids = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            try {
                int id = Integer.parseInt(part.trim());
                if (id < 0) throw new NumberFormatException();
                ids.add(id);
            } catch (NumberFormatException e) {
                throw Cli.usageError(spec, "--prompt-ids must be a comma-separated list of non-negative token ids, got '" + value + "'");
            }
        }
        return List.copyOf(ids);
    }

    /** The response as {@code key: value} lines. */
    public static String format(InferenceResponse r) {
        StringBuilder s = new StringBuilder();
        line(s, "request_id", r.getRequestId());
        line(s, "adapter", r.getAdapterId() == null ? "(backbone)" : r.getAdapterId());
        line(s, "status", r.getStatus());
        if (r.getStatus() == ResponseStatus.OK) {
            line(s, "text", r.getText());
            line(s, "token_ids", r.getTokenIds());
            line(s, "finish_reason", r.getFinishReason());
        } else {
            ErrorInfo error = r.getError();
            line(s, "error_code", error == null ? "(none given)" : error.getCode());
            line(s, "error_field", error == null || error.getField() == null ? "-" : error.getField());
            line(s, "error_message", error == null ? "-" : error.getMessage());
        }
        line(s, "prompt_tokens", r.getPromptTokens());
        line(s, "completion_tokens", r.getCompletionTokens());
        Timings t = r.getTimings();
        if (t != null) {
            line(s, "timings_ms", "queue=" + t.getQueueMs() + " prefill=" + t.getPrefillMs() + " decode=" + t.getDecodeMs() + " total=" + t.getTotalMs());
        }
        if (r.getWorkerId() != null) line(s, "worker", r.getWorkerId());
        return s.toString();
    }

    private static void line(StringBuilder s, String key, Object value) {
        s.append(key).append(": ").append(value).append('\n');
    }
}
