package dev.lorastream.ingest;

import dev.lorastream.schemas.ErrorInfo;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.Timings;

import java.io.PrintStream;
import java.util.Objects;
import java.util.function.Function;

/**
 * {@code submit}: sends one request, waits for its response and prints it. Exit status 0 for an
 * OK response, 1 for an ERROR response (or none in time, or a transport failure), 2 for bad
 * arguments (the message names the flag).
 */
public final class SubmitCommand {
    public static final int EXIT_OK = 0;
    public static final int EXIT_ERROR = 1;
    public static final int EXIT_USAGE = 2;

    private final PrintStream out;
    private final PrintStream err;
    private final Function<ClientConfig, InferenceClient> clients;

    /** @param clients opens the client for the parsed settings (tests substitute one without Kafka) */
    public SubmitCommand(PrintStream out, PrintStream err, Function<ClientConfig, InferenceClient> clients) {
        this.out = Objects.requireNonNull(out);
        this.err = Objects.requireNonNull(err);
        this.clients = Objects.requireNonNull(clients);
    }

    /** Runs against Kafka, printing to standard output and error; returns the exit status. */
    public static int run(String[] args) {
        return new SubmitCommand(System.out, System.err, InferenceClient::new).execute(args);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public int execute(String[] args) {
        if (SubmitOptions.wantsHelp(args)) {
            out.println(SubmitOptions.USAGE);
            return EXIT_OK;
        }
        SubmitOptions options;
        try {
            options = SubmitOptions.parse(args);
        } catch (UsageException e) {
            err.println("submit: " + e.getMessage());
            err.println(SubmitOptions.USAGE);
            return EXIT_USAGE;
        }
        InferenceRequest request = toRequest(options);
        InferenceResponse response;
        try (InferenceClient client = clients.apply(options.clientConfig())) {
            response = client.call(request, options.timeout());
        } catch (RuntimeException e) {
            err.println("submit: request " + request.getRequestId() + " failed: " + e.getMessage());
            return EXIT_ERROR;
        }
        out.print(format(response));
        out.flush();
        return response.getStatus() == ResponseStatus.OK ? EXIT_OK : EXIT_ERROR;
    }

    static InferenceRequest toRequest(SubmitOptions options) {
        InferenceRequest request = options.prompt() != null
                ? Requests.text(options.tenant(), options.adapter(), options.prompt(), options.maxNewTokens())
                : Requests.tokens(options.tenant(), options.adapter(), options.promptIds(), options.maxNewTokens());
        request.getParams().setTemperature(options.temperature());
        return request;
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
