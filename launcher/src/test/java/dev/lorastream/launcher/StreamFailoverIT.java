package dev.lorastream.launcher;

import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.Requests;
import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.router.RouterApp;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.TokenChunk;
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

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A worker that leaves mid-stream (its request abandoned uncommitted, as in a crash): the group
 * hands the partition to the worker that joined, which serves the request again from its first
 * token; the caller's stream goes on where it was, with no text repeated and none missing, and the
 * response of record comes from the successor. Simulated engines (slow, deterministic tokens), the
 * real router, workers, broker and registry.
 */
class StreamFailoverIT {
    @TempDir
    Path work;

    @Test
    void aStreamWhoseWorkerGoesAwayContinuesFromItsSuccessorWithNothingRepeatedOrMissing() throws Exception {
        KafkaPlatform platform = TestPlatform.shared();
        String bootstrap = platform.bootstrapServers();
        TopicSetup.ensure(bootstrap, 4, (short) 1);
        Topics.declareSubjects(new HttpSchemaRegistryClient(platform.schemaRegistryUrl()));
        String run = UUID.randomUUID().toString().substring(0, 8), group = "stream-failover-" + run;
        Connection c = new Connection(bootstrap, platform.schemaRegistryUrl());
        var streamFrom = TopicReader.endOffsets(bootstrap, Topics.STREAM);
        TopicReader.startGroupAtEnd(bootstrap, group, Topics.ROUTED);
        InferenceRequest request = Requests.text("tenant", null, "a long streamed answer", 40);
        List<String> pieces = new CopyOnWriteArrayList<>();

        try (RouterApp router = Components.router(c, work.resolve("router"));
             InferenceClient client = Components.client(c);
             InferenceEngine firstEngine = EngineFactory.open(config(c, group, run + "-first"));
             InferenceEngine secondEngine = EngineFactory.open(config(c, group, run + "-second"))) {
            router.start();
            Worker first = new Worker(config(c, group, run + "-first"), firstEngine);
            first.start();
            CompletableFuture<InferenceResponse> response = client.stream(request, Duration.ofMinutes(2), pieces::add);
            // ~190 ms a token: the first worker is a few tokens in
            await().atMost(Duration.ofSeconds(60)).until(() -> String.join("", pieces).length() >= 5);
            try (Worker second = new Worker(config(c, group, run + "-second"), secondEngine)) {
                second.start();
                first.close();
                InferenceResponse r = response.get(2, TimeUnit.MINUTES);

                assertThat(r.getStatus()).as("%s", r.getError()).isEqualTo(ResponseStatus.OK);
                assertThat(r.getWorkerId()).as("the response of record").isEqualTo(run + "-second");
                assertThat(r.getCompletionTokens()).isEqualTo(40);
                assertThat(String.join("", pieces)).as("the streamed text, piece by piece").isEqualTo(r.getText());
            }
        }
        List<ConsumerRecord<String, TokenChunk>> chunks = TopicReader.read(bootstrap, streamFrom,
                new AvroDeserializer<>(new HttpSchemaRegistryClient(platform.schemaRegistryUrl()), TokenChunk.class),
                got -> got.stream().anyMatch(ch -> ch.value().getRequestId().equals(request.getRequestId())
                        && ch.value().getWorkerId().equals(run + "-second")), Duration.ofSeconds(30));
        List<TokenChunk> mine = chunks.stream().map(ConsumerRecord::value).filter(ch -> ch.getRequestId().equals(request.getRequestId())).toList();
        assertThat(mine).extracting(TokenChunk::getWorkerId).as("both workers streamed it").contains(run + "-first", run + "-second");
        assertThat(mine.stream().filter(ch -> ch.getWorkerId().equals(run + "-second")).mapToInt(TokenChunk::getTextOffset).min().orElseThrow())
                .as("the successor streamed from the start").isZero();
    }

    private static WorkerConfig config(Connection c, String group, String workerId) {
        return WorkerConfig.from(Map.of(
                WorkerConfig.BOOTSTRAP_SERVERS.name(), c.bootstrapServers(),
                WorkerConfig.SCHEMA_REGISTRY_URL.name(), c.schemaRegistryUrl(),
                WorkerConfig.GROUP_ID.name(), group,
                WorkerConfig.WORKER_ID.name(), workerId,
                WorkerConfig.ENGINE.name(), "sim",
                WorkerConfig.SIM_ADAPTERS.name(), "4",
                WorkerConfig.SIM_TIME_SCALE.name(), "100",
                WorkerConfig.SHUTDOWN_TIMEOUT.name(), "2000"));
    }
}
