package dev.lorastream.worker;

import dev.lorastream.worker.internal.WorkerMetrics;
import dev.lorastream.worker.testing.FakeEngine;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

class MetricsEndpointTest {

    @Test
    void serves_worker_counters_and_gauges_in_prometheus_text_format() throws Exception {
        WorkerMetrics metrics = new WorkerMetrics();
        metrics.load(3, 5);
        metrics.aborted();
        metrics.committed(new dev.lorastream.worker.internal.OutputBatch(), 2_500_000L);
        metrics.committed(new dev.lorastream.worker.internal.OutputBatch(), 500_000L);
        assertThat(metrics.meanCommitMs()).isEqualTo(1.5);
        metrics.countWatchdogAborts(() -> 2);
        try (MetricsEndpoint endpoint = new MetricsEndpoint("127.0.0.1", 0, metrics, new FakeEngine()).start()) {
            HttpResponse<String> resp = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(resp.statusCode()).isEqualTo(200);
            assertThat(resp.headers().firstValue("Content-Type")).hasValue(MetricsEndpoint.CONTENT_TYPE);
            assertThat(resp.body())
                    .contains("# TYPE lorastream_worker_requests_running gauge\nlorastream_worker_requests_running 3\n")
                    .contains("# TYPE lorastream_worker_requests_waiting gauge\nlorastream_worker_requests_waiting 5\n")
                    .contains("# TYPE lorastream_worker_transactions_aborted_total counter\nlorastream_worker_transactions_aborted_total 1\n")
                    .contains("lorastream_worker_transactions_committed_total 2\n")
                    .contains("# TYPE lorastream_transactions_aborted_by_watchdog_total counter\nlorastream_transactions_aborted_by_watchdog_total 2\n")
                    .contains("# TYPE lorastream_worker_transactions_commit_seconds_total counter\nlorastream_worker_transactions_commit_seconds_total 0.003\n");
            HttpResponse<String> post = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics"))
                            .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(405);
        }
    }
}
