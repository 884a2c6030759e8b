package dev.lorastream.launcher;

import dev.lorastream.engine.sim.SimulatedEngine;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.http.OpenAiServer;
import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.router.RouterApp;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.EngineFactory;
import dev.lorastream.worker.Worker;
import dev.lorastream.worker.WorkerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An HTTP client that goes away mid-answer, streaming or not: the endpoint publishes a cancellation, the
 * worker drops the request at the engine's next step, counts it, and answers CANCELLED; the engine
 * generates far fewer tokens than were asked for. Real router, worker (slow simulated engine),
 * broker, registry and HTTP endpoint.
 */
class ClientDisconnectIT {
    @TempDir
    Path work;

    /** The running pipeline a test's client talks to, and the offsets of the output topics before it started. */
    private record Stack(String bootstrap, String registryUrl, String run, SimulatedEngine engine, Worker worker, OpenAiServer http,
                         Map<org.apache.kafka.common.TopicPartition, Long> responsesFrom, Map<org.apache.kafka.common.TopicPartition, Long> dlqFrom) {}

    private interface Scenario {
        void run(Stack stack) throws Exception;
    }

    /** Real router, worker (a simulated engine slowed 100 times), client and HTTP endpoint on the shared broker and registry. */
    private void withPipeline(String name, Scenario scenario) throws Exception {
        KafkaPlatform platform = TestPlatform.shared();
        String bootstrap = platform.bootstrapServers();
        TopicSetup.ensure(bootstrap, 4, (short) 1);
        Topics.declareSubjects(new HttpSchemaRegistryClient(platform.schemaRegistryUrl()));
        String run = UUID.randomUUID().toString().substring(0, 8);
        Connection c = new Connection(bootstrap, platform.schemaRegistryUrl());
        WorkerConfig config = WorkerConfig.from(Map.of(
                WorkerConfig.BOOTSTRAP_SERVERS.name(), bootstrap,
                WorkerConfig.SCHEMA_REGISTRY_URL.name(), platform.schemaRegistryUrl(),
                WorkerConfig.GROUP_ID.name(), name + "-" + run,
                WorkerConfig.WORKER_ID.name(), name + "-" + run,
                WorkerConfig.ENGINE.name(), "sim",
                WorkerConfig.SIM_ADAPTERS.name(), "4",
                WorkerConfig.SIM_TIME_SCALE.name(), "100"));
        var responsesFrom = TopicReader.endOffsets(bootstrap, Topics.RESPONSES);
        var dlqFrom = TopicReader.endOffsets(bootstrap, Topics.DLQ);
        TopicReader.startGroupAtEnd(bootstrap, name + "-" + run, Topics.ROUTED);
        try (SimulatedEngine engine = (SimulatedEngine) EngineFactory.open(config);
             RouterApp router = Components.router(c, work.resolve("router"));
             Worker worker = new Worker(config, engine);
             InferenceClient client = Components.client(c);
             OpenAiServer http = Components.http(client, 0)) {
            router.start();
            worker.start();
            http.start();
            scenario.run(new Stack(bootstrap, platform.schemaRegistryUrl(), run, engine, worker, http, responsesFrom, dlqFrom));
        }
    }

    @Test
    void aStreamingClientThatDisconnectsCancelsItsRequestOnTheWorker() throws Exception {
        withPipeline("disconnect", p -> {
            HttpResponse<InputStream> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + p.http().port() + "/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"a very long answer\",\"max_tokens\":200,\"stream\":true}")).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            String requestId = answer.headers().firstValue(OpenAiServer.REQUEST_ID_HEADER).orElseThrow();
            BufferedReader events = new BufferedReader(new InputStreamReader(answer.body(), StandardCharsets.UTF_8));
            int pieces = 0;
            for (String line; pieces < 3 && (line = events.readLine()) != null; ) if (line.startsWith("data: {")) pieces++;
            assertThat(pieces).as("text arrived before the client went away").isEqualTo(3);
            answer.body().close(); // the client goes away

            await().atMost(Duration.ofSeconds(20)).until(() -> p.worker().metrics().cancelledCount() == 1);
            long generated = p.engine().stats().generatedTokens();
            List<ConsumerRecord<String, InferenceResponse>> responses = TopicReader.read(p.bootstrap(), p.responsesFrom(),
                    new AvroDeserializer<>(new HttpSchemaRegistryClient(p.registryUrl()), InferenceResponse.class),
                    got -> got.stream().anyMatch(r -> r.value().getRequestId().equals(requestId)), Duration.ofSeconds(30));
            InferenceResponse cancelled = responses.stream().map(ConsumerRecord::value).filter(r -> r.getRequestId().equals(requestId)).findFirst().orElseThrow();
            assertCancelled(cancelled, "went away");
            List<ConsumerRecord<String, dev.lorastream.schemas.DeadLetter>> letters = TopicReader.read(p.bootstrap(), p.dlqFrom(),
                    new AvroDeserializer<>(new HttpSchemaRegistryClient(p.registryUrl()), dev.lorastream.schemas.DeadLetter.class),
                    got -> false, Duration.ofSeconds(1));
            assertThat(letters).as("no dead letter for a cancellation").noneMatch(l -> requestId.equals(l.value().getRequestId()));
            assertStoppedGenerating(p.engine(), generated);
        });
    }

    @Test
    void aNonStreamingClientThatDisconnectsCancelsItsRequestOnTheWorker() throws Exception {
        withPipeline("disconnect-plain", p -> {
            String body = "{\"prompt\":\"a very long answer " + p.run() + "\",\"max_tokens\":200}";
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", p.http().port())) {
                socket.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
                socket.getOutputStream().flush();
                await().atMost(Duration.ofSeconds(20)).until(() -> p.engine().stats().generatedTokens() >= 3);
            } // the client goes away before its answer, which nothing had written yet

            await().atMost(Duration.ofSeconds(20)).until(() -> p.worker().metrics().cancelledCount() == 1);
            long generated = p.engine().stats().generatedTokens();
            List<ConsumerRecord<String, InferenceResponse>> responses = TopicReader.read(p.bootstrap(), p.responsesFrom(),
                    new AvroDeserializer<>(new HttpSchemaRegistryClient(p.registryUrl()), InferenceResponse.class),
                    got -> got.stream().anyMatch(r -> wentAwayBeforeTheAnswer(r.value())), Duration.ofSeconds(30));
            List<InferenceResponse> mine = responses.stream().map(ConsumerRecord::value).filter(ClientDisconnectIT::wentAwayBeforeTheAnswer).toList();
            assertThat(mine).as("answered once").hasSize(1);
            assertCancelled(mine.getFirst(), "went away before the answer");
            assertStoppedGenerating(p.engine(), generated);
        });
    }

    private static void assertCancelled(InferenceResponse cancelled, String message) {
        assertThat(cancelled.getStatus()).isEqualTo(ResponseStatus.ERROR);
        assertThat(cancelled.getError().getCode()).isEqualTo(ErrorCode.CANCELLED.name());
        assertThat(cancelled.getError().getMessage()).contains(message);
    }

    /** {@code generated}: the engine's tokens when the cancellation was counted. */
    private static void assertStoppedGenerating(SimulatedEngine engine, long generated) {
        assertThat(engine.stats().generatedTokens()).as("the engine stopped generating it (at most one more step)")
                .isLessThanOrEqualTo(generated + 1).isLessThan(200);
    }

    private static boolean wentAwayBeforeTheAnswer(InferenceResponse r) {
        return r.getError() != null && r.getError().getMessage().contains("went away before the answer");
    }
}
