package dev.lorastream.worker;

import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.testing.PipelineFixture;
import dev.lorastream.worker.testing.Requests;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The worker as a process (bin/worker runs it): started from the command line, serving, with its /metrics, and stopping cleanly on SIGTERM. */
class WorkerMainIT {

    @Test
    void theCommandLineWorkerServesAndStopsCleanlyOnSigterm() throws Exception {
        PipelineFixture fixture = new PipelineFixture();
        String workerId = "mit-" + UUID.randomUUID().toString().substring(0, 8);
        Map<TopicPartition, Long> responsesFrom = fixture.endOffsets(Topics.RESPONSES);
        Map<TopicPartition, Long> statusFrom = fixture.endOffsets(Topics.WORKER_STATUS);
        WorkerConfig config = fixture.workerConfig(workerId, Map.of());
        Path log = Files.createDirectories(Path.of("target")).resolve(workerId + ".log");
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                WorkerMain.class.getName(),
                "--bootstrap-servers", config.bootstrapServers(), "--schema-registry", config.schemaRegistryUrl(),
                "--model", config.modelDir().toString(), "--adapters", config.adapterDir().toString(),
                "--worker-id", workerId, "--max-batch", "4", "--provider", "cpu", "--precision", "fp32", "--metrics-port", "0",
                "--set", "heartbeat.interval.ms=300")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            fixture.produce(Requests.request(workerId + "-req", "nutrition", "is oatmeal good for breakfast").build());
            List<ConsumerRecord<String, InferenceResponse>> answered = fixture.awaitCommitted(Topics.RESPONSES, responsesFrom,
                    InferenceResponse.class, r -> r.getRequestId().equals(workerId + "-req"), read -> !read.isEmpty(), Duration.ofMinutes(2));
            assertThat(answered).as("answer from the worker process (log: %s)", log).hasSize(1);
            assertThat(answered.getFirst().value().getStatus()).isEqualTo(ResponseStatus.OK);
            assertThat(answered.getFirst().value().getWorkerId()).isEqualTo(workerId);

            Matcher port = Pattern.compile("metrics on port (\\d+)").matcher(Files.readString(log));
            assertThat(port.find()).as("the worker says where its metrics are (log: %s)", log).isTrue();
            String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.group(1) + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher batches = Pattern.compile("(?m)^lorastream_worker_engine_batches_total (\\d+)$").matcher(metrics);
            assertThat(batches.find()).as(metrics).isTrue();
            assertThat(Long.parseLong(batches.group(1))).as("forward passes of the continuous batch").isPositive();

            process.destroy(); // SIGTERM

            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the worker process ends after SIGTERM").isTrue();
        } finally {
            process.destroyForcibly();
        }
        List<ConsumerRecord<String, WorkerStatus>> beats = fixture.readCommitted(Topics.WORKER_STATUS, statusFrom, WorkerStatus.class,
                s -> s.getWorkerId().equals(workerId));
        assertThat(beats).isNotEmpty();
        assertThat(beats.getLast().value().getState()).as("last heartbeat").isEqualTo("STOPPING");
        assertThat(Files.readString(log)).contains("worker " + workerId + " closed");
    }
}
