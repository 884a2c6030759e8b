package dev.lorastream.schemas.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * {@code GET /metrics}: a component's metrics in the Prometheus text exposition format (0.0.4), as
 * its {@code text} supplier renders them at each request. Listens from construction (a port in use
 * fails there); serves once started.
 */
public final class PrometheusEndpoint implements AutoCloseable {
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;
    private final Supplier<String> text;

    /** @param port 0 picks a free one ({@link #port()}) */
    public PrometheusEndpoint(String host, int port, Supplier<String> text) {
        this.text = text;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("metrics endpoint cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        server.createContext("/metrics", this::handle);
    }

    public PrometheusEndpoint start() {
        server.start();
        return this;
    }

    public int port() { return server.getAddress().getPort(); }

    /** Everything the endpoint serves, as text. */
    public String render() { return text.get(); }

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
