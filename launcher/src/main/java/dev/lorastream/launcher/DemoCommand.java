package dev.lorastream.launcher;

import dev.lorastream.ingest.Requests;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.sink.UsageReport;

import dev.lorastream.schemas.cli.ConnectionOptions;
import dev.lorastream.schemas.cli.Port;
import dev.lorastream.worker.CacheOptions;
import dev.lorastream.worker.EngineOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * {@code ./pipeline demo}: starts the embedded stack (fresh work dir), sends the demo traffic through
 * Kafka (and one chat request through the HTTP endpoint), prints every answer and the attribution
 * report read back from the sink's store, shuts down, and ends with the summary line. Exit 0 only
 * when every request was answered and every answer has exactly its attribution row.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Start the embedded stack, send demo requests to the three adapters and the backbone, print the answers and "
                + "the attribution summary, shut down.",
                "The stack: Kafka, a schema registry, the router, one worker, the attribution sink and the HTTP endpoint, in a fresh "
                + "work dir; with --bootstrap-servers and --schema-registry, that cluster and registry instead of embedded ones."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every request answered and attributed exactly once", "1:not so, or the stack failed", "2:a bad command line"})
final class DemoCommand implements Callable<Integer> {
    private static final int MAX_NEW_TOKENS = 24;
    private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(180);
    private final PrintStream out = System.out;

    @Spec CommandSpec spec;

    @Mixin ConnectionOptions connection;

    @Mixin StackOptions stack;

    @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "0", converter = Port.class,
            description = "port of the OpenAI-compatible HTTP endpoint; 0 picks a free one (default: ${DEFAULT-VALUE})")
    int httpPort;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "0", converter = Port.class,
            description = "port of the worker's /metrics endpoint (127.0.0.1); 0 picks a free one (default: ${DEFAULT-VALUE})")
    int metricsPort;

    @Mixin EngineOptions engine;

    @Mixin CacheOptions cache;

    /** The stack the command line describes (the embedded broker and registry on free ports). */
    StackSettings settings() { return stack.settings(spec, connection, httpPort, 0, 0, metricsPort); }

    @Override
    public Integer call() { return run(settings()); }

    private int run(StackSettings settings) {
        if (settings.embedded()) deleteRecursively(settings.workDir());
        Map<String, InferenceResponse> answers = new LinkedHashMap<>();
        int sent;
        Set<String> attributed;
        long rows;
        Set<String> adapters;
        try (Stack stack = Stack.start(settings, out)) {
            out.println();
            List<InferenceRequest> requests = new ArrayList<>();
            List<CompletableFuture<InferenceResponse>> pending = new ArrayList<>();
            for (DemoTraffic.Prompt p : DemoTraffic.PROMPTS) {
                InferenceRequest r = Requests.text(p.tenant(), p.adapterId(), p.text(), MAX_NEW_TOKENS);
                requests.add(r);
                pending.add(stack.client.submit(r));
            }
            String httpAnswered = chatOverHttp(stack);
            sent = requests.size() + 1;
            for (int i = 0; i < requests.size(); i++) {
                InferenceRequest r = requests.get(i);
                try {
                    InferenceResponse resp = pending.get(i).get(ANSWER_TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
                    answers.put(r.getRequestId(), resp);
                    print(r.getAdapterId(), r.getTenant(), r.getPrompt(), resp);
                } catch (Exception e) {
                    out.println("  no answer for " + r.getRequestId() + ": " + e);
                }
            }
            Set<String> ok = new HashSet<>();
            answers.forEach((id, resp) -> { if (resp.getStatus() == ResponseStatus.OK) ok.add(id); });
            if (httpAnswered != null) ok.add(httpAnswered);
            awaitRows(stack, ok.size());
            stack.closeSink();
            attributed = attributedRequestIds(stack.sinkDataDir);
            UsageReport.Summary summary = UsageReport.summary(stack.sinkDataDir);
            rows = summary.rows();
            adapters = new HashSet<>(summary.requestsByAdapter().keySet());
            adapters.remove(UsageReport.BACKBONE);
            out.println();
            out.println(UsageReport.render(stack.sinkDataDir));
            long answered = ok.size();
            boolean complete = answered == sent && attributed.equals(ok) && rows == answered;
            out.println("demo: " + answered + "/" + sent + " answered, " + rows + " attribution rows, " + adapters.size() + " adapters");
            if (!complete && !attributed.equals(ok)) {
                out.println("demo: answered but not attributed: " + minus(ok, attributed) + "; attributed but not answered: " + minus(attributed, ok));
            }
            return complete ? 0 : 1;
        }
    }

    /** One request through the OpenAI-compatible endpoint, so the demo shows that path too. */
    /** @return the request id when the endpoint answered 200, else null */
    private String chatOverHttp(Stack stack) {
        String body = """
                {"model": "nutrition", "max_tokens": %d, "user": "wellness-app",
                 "messages": [{"role": "user", "content": "Is oatmeal a good breakfast before a run?"}]}""".formatted(MAX_NEW_TOKENS);
        try {
            HttpResponse<String> resp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + stack.http.port() + "/v1/chat/completions"))
                    .timeout(ANSWER_TIMEOUT).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            String requestId = resp.headers().firstValue("X-Request-Id").orElse(null);
            out.println("[http POST /v1/chat/completions model=nutrition] HTTP " + resp.statusCode() + " " + resp.body());
            return resp.statusCode() == 200 ? requestId : null;
        } catch (IOException | InterruptedException e) {
            out.println("[http] request failed: " + e);
            return null;
        }
    }

    private void print(String adapter, String tenant, String prompt, InferenceResponse r) {
        String who = String.format("[%-11s %-13s]", adapter == null ? "(backbone)" : adapter, tenant);
        if (r.getStatus() == ResponseStatus.OK) {
            out.printf("%s %s%n      -> %s   (%d+%d tokens, %s, %d ms)%n", who, quote(prompt), quote(r.getText()),
                    r.getPromptTokens(), r.getCompletionTokens(), r.getFinishReason(),
                    r.getTimings() == null ? -1 : r.getTimings().getTotalMs());
        } else {
            out.printf("%s %s%n      -> ERROR %s (%s): %s%n", who, quote(prompt), r.getError().getCode(), r.getError().getField(), r.getError().getMessage());
        }
    }

    private void awaitRows(Stack stack, long expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (stack.sink.rowCount() < expected && System.nanoTime() < deadline) {
            try { Thread.sleep(100); } catch (InterruptedException e) { Thread.currentThread().interrupt(); return; }
        }
    }

    private static Set<String> attributedRequestIds(Path dataDir) {
        Set<String> ids = new HashSet<>();
        try (var conn = DriverManager.getConnection("jdbc:duckdb:" + dataDir.resolve("attribution.duckdb"));
             var rs = conn.createStatement().executeQuery("SELECT request_id FROM attribution")) {
            while (rs.next()) ids.add(rs.getString(1));
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the sink's store in " + dataDir + ": " + e.getMessage(), e);
        }
        return ids;
    }

    private static Set<String> minus(Set<String> a, Set<String> b) {
        Set<String> d = new HashSet<>(a);
        d.removeAll(b);
        return d;
    }

    private static String quote(String s) {
        if (s == null) return "\"\"";
        return "\"" + s.replace("\n", "\\n") + "\"";
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + dir, e);
        }
    }
}
