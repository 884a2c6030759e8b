package dev.lorastream.worker;

import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.schemas.metrics.PrometheusEndpoint;
import dev.lorastream.worker.internal.WorkerMetrics;

import java.util.Map;
import java.util.Set;

/**
 * The worker's metrics endpoint: {@code GET /metrics} in the Prometheus text exposition format
 * (0.0.4): its counters and gauges, then the engine's per-adapter metrics (requests running and
 * waiting, hits and misses per tier, evictions, load-time histogram).
 */
public final class MetricsEndpoint implements AutoCloseable {
    static final String CONTENT_TYPE = PrometheusEndpoint.CONTENT_TYPE;
    private static final Set<String> GAUGES = Set.of(WorkerMetrics.RUNNING, WorkerMetrics.WAITING);

    private final PrometheusEndpoint endpoint;

    /** Listens on {@code host:port} from here (0: a free port); serves once {@link #start started}. */
    public MetricsEndpoint(String host, int port, WorkerMetrics worker, InferenceEngine engine) {
        endpoint = new PrometheusEndpoint(host, port, () -> render(worker, engine));
    }

    public MetricsEndpoint start() {
        endpoint.start();
        return this;
    }

    public int port() { return endpoint.port(); }

    /** Everything the endpoint serves, as text. */
    public String render() { return endpoint.render(); }

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

    @Override
    public void close() { endpoint.close(); }
}
