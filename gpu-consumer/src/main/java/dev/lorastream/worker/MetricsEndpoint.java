package dev.lorastream.worker;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.worker.internal.WorkerMetrics;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;

/**
 * A metrics endpoint: {@code GET /metrics} in the Prometheus text exposition format (0.0.4). The
 * worker's: its counters and gauges, then the engine's per-adapter metrics (requests running and
 * waiting, hits and misses per tier, evictions, load-time histogram); or any component's text
 * ({@link #of}: the router's placement meters).
 */
public final class MetricsEndpoint implements AutoCloseable {
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final Set<String> GAUGES = Set.of(WorkerMetrics.RUNNING, WorkerMetrics.WAITING);

    private final HttpServer server;
    private final java.util.function.Supplier<String> text;

    public MetricsEndpoint(String host, int port, WorkerMetrics worker, InferenceEngine engine) {
        this(host, port, () -> render(worker, engine));
    }

    private MetricsEndpoint(String host, int port, java.util.function.Supplier<String> text) {
        this.text = text;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("metrics endpoint cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        server.createContext("/metrics", this::handle);
    }

    public MetricsEndpoint start() {
        server.start();
        return this;
    }

    public int port() { return server.getAddress().getPort(); }

    /** An endpoint serving {@code text} (Prometheus text format) at /metrics. */
    public static MetricsEndpoint of(String host, int port, java.util.function.Supplier<String> text) {
        return new MetricsEndpoint(host, port, text);
    }

    /** Everything the endpoint serves, as text. */
    public String render() { return text.get(); }

    private static String render(WorkerMetrics worker, InferenceEngine engine) {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, Number> m : worker.snapshot().entrySet()) {
            boolean gauge = GAUGES.contains(m.getKey());
            String name = m.getKey().replace('.', '_') + (gauge ? "" : "_total");
            out.append("# TYPE ").append(name).append(gauge ? " gauge" : " counter").append('\n');
            out.append(name).append(' ').append(m.getValue()).append('\n');
        }
        out.append(engine.prometheusText());
        return out.toString();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET")) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = render().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream os = exchange.getResponseBody()) {
                os.write(body);
            }
        }
    }

    @Override
    public void close() { server.stop(0); }
}
