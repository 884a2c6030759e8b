package dev.lorastream.launcher;

import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.Requests;
import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole pipeline (router, worker with the real engine, sink, client) on the real broker and
 * registry, started by the launcher's Stack against an existing cluster: many requests across the
 * three adapters and the backbone answered and attributed exactly once; every kind of bad input on
 * the request topic dead-lettered with its reason, and answered with an error where a caller waits.
 */
class EndToEndIT {
    private static final List<String> ADAPTERS = Arrays.asList("dermatology", "cardiology", "nutrition", null);
    @TempDir static Path work;
    private static KafkaPlatform platform;
    private static Stack stack;

    @BeforeAll
    static void start() {
        platform = TestPlatform.shared();
        StackSettings settings = new StackSettings("it", platform.bootstrapServers(), platform.schemaRegistryUrl(),
                work.resolve("run"), null, null, 0, 0, 0, 4, 0, java.util.Map.of());
        stack = Stack.start(settings, new PrintStream(new ByteArrayOutputStream()));
    }

    @AfterAll
    static void stop() {
        if (stack != null) stack.close();
    }

    @Test
    void many_requests_across_adapters_are_answered_and_attributed_exactly_once() throws Exception {
        String bootstrap = platform.bootstrapServers();
        var responsesFrom = TopicReader.endOffsets(bootstrap, Topics.RESPONSES);
        var attributionFrom = TopicReader.endOffsets(bootstrap, Topics.ATTRIBUTION);
        InferenceClient client = stack.client;
        List<InferenceRequest> requests = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String adapter = ADAPTERS.get(i % ADAPTERS.size());
            InferenceRequest r = i % 5 == 0
                    ? Requests.tokens("tenant-" + (i % 3), adapter, List.of(1, 40 + i % 20, 50, 60), 6)
                    : Requests.text("tenant-" + (i % 3), adapter, "request number " + i + " for " + adapter, 6);
            requests.add(r);
        }
        List<CompletableFuture<InferenceResponse>> futures = requests.stream().map(client::submit).toList();
        for (int i = 0; i < requests.size(); i++) {
            InferenceResponse resp = futures.get(i).get(120, TimeUnit.SECONDS);
            assertThat(resp.getStatus()).as("response to %s: %s", requests.get(i).getRequestId(), resp.getError()).isEqualTo(ResponseStatus.OK);
            assertThat(resp.getCompletionTokens()).isEqualTo(6);
            assertThat(resp.getAdapterId()).isEqualTo(requests.get(i).getAdapterId());
        }
        var ids = requests.stream().map(InferenceRequest::getRequestId).collect(Collectors.toSet());

        var registry = new HttpSchemaRegistryClient(platform.schemaRegistryUrl());
        List<ConsumerRecord<String, InferenceResponse>> responses = TopicReader.read(bootstrap, responsesFrom,
                new AvroDeserializer<>(registry, InferenceResponse.class),
                got -> count(got, r -> r.value().getRequestId(), ids) >= ids.size(), Duration.ofSeconds(30));
        List<ConsumerRecord<String, AttributionEvent>> events = TopicReader.read(bootstrap, attributionFrom,
                new AvroDeserializer<>(registry, AttributionEvent.class),
                got -> count(got, r -> r.value().getRequestId(), ids) >= ids.size(), Duration.ofSeconds(30));
        assertThat(perId(responses, r -> r.value().getRequestId(), ids)).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1)).hasSize(ids.size());
        assertThat(perId(events, r -> r.value().getRequestId(), ids)).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1)).hasSize(ids.size());
        for (var e : events) {
            if (!ids.contains(e.value().getRequestId())) continue;
            String expectedKey = e.value().getAdapterId() == null ? Topics.BASE_MODEL_KEY : e.value().getAdapterId();
            assertThat(e.key()).isEqualTo(expectedKey);
            if (e.value().getAdapterId() != null) assertThat(e.value().getContributors()).isNotEmpty();
        }
        // the broker is shared with other test classes: count this test's rows, not the table's
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (stack.sink.store().rowsPerRequest(ids).size() < ids.size() && System.nanoTime() < deadline) Thread.sleep(100);
        Thread.sleep(500);
        assertThat(stack.sink.store().rowsPerRequest(ids)).as("sink rows per request").hasSize(ids.size())
                .allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1L));
    }

    @Test
    void bad_input_on_the_request_topic_is_dead_lettered_with_its_reason_and_answered_where_a_caller_waits() throws Exception {
        String bootstrap = platform.bootstrapServers();
        var registry = new HttpSchemaRegistryClient(platform.schemaRegistryUrl());
        var dlqFrom = TopicReader.endOffsets(bootstrap, Topics.DLQ);
        String p = "e2e-bad-" + UUID.randomUUID().toString().substring(0, 8) + "-";

        InferenceRequest unknownAdapter = withId(Requests.text("t", "radiology", "scan please", 4), p + "unknown-adapter");
        InferenceRequest emptyPrompt = withId(Requests.base("t", "dermatology", 4).setPrompt("").build(), p + "empty-prompt");
        InferenceRequest tooLong = withId(Requests.text("t", "cardiology", "x".repeat(400), 4), p + "too-long");
        InferenceRequest badTemperature = withId(Requests.text("t", "nutrition", "hello", 4), p + "bad-temperature");
        badTemperature.getParams().setTemperature(5.0f);
        InferenceRequest noId = withId(Requests.text("t", null, "who am I", 4), " ");

        Map<String, CompletableFuture<InferenceResponse>> waiting = new HashMap<>();
        for (InferenceRequest r : List.of(unknownAdapter, emptyPrompt, tooLong, badTemperature)) {
            waiting.put(r.getRequestId(), stack.client.submit(r));
        }
        byte[] garbage = "definitely not avro".getBytes(StandardCharsets.UTF_8);
        WorkerStatus status = WorkerStatus.newBuilder().setWorkerId("w").setHost("h").setState("RUNNING").setRunningRequests(0)
                .setWaitingRequests(0).setFreeMemoryBytes(0).setExecutionProvider("CPU").setBaseModel("m")
                .setHeartbeatAtMs(Instant.now()).build();
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.REQUESTS, (p + "garbage").getBytes(StandardCharsets.UTF_8), garbage)).get();
            byte[] wrongSchema = new AvroSerializer<WorkerStatus>(registry, false).serialize(Topics.WORKER_STATUS, status);
            producer.send(new ProducerRecord<>(Topics.REQUESTS, (p + "wrong-schema").getBytes(StandardCharsets.UTF_8), wrongSchema)).get();
            byte[] noIdBytes = new AvroSerializer<InferenceRequest>(registry, false).serialize(Topics.REQUESTS, noId);
            producer.send(new ProducerRecord<>(Topics.REQUESTS, (p + "no-id").getBytes(StandardCharsets.UTF_8), noIdBytes)).get();
        }

        Map<String, String[]> expected = Map.of(
                p + "unknown-adapter", new String[]{"UNKNOWN_ADAPTER", "adapter_id"},
                p + "empty-prompt", new String[]{"INVALID_REQUEST", "prompt"},
                p + "too-long", new String[]{"PROMPT_TOO_LONG", "prompt"},
                p + "bad-temperature", new String[]{"BAD_PARAMETER", "params.temperature"},
                p + "garbage", new String[]{"MALFORMED_RECORD", null},
                p + "wrong-schema", new String[]{"WRONG_SCHEMA", null},
                p + "no-id", new String[]{"INVALID_REQUEST", "request_id"});
        List<ConsumerRecord<String, DeadLetter>> dead = TopicReader.read(bootstrap, dlqFrom, new AvroDeserializer<>(registry, DeadLetter.class),
                got -> got.stream().filter(r -> r.key() != null && r.key().startsWith(p)).count() >= expected.size(), Duration.ofSeconds(60));
        Map<String, DeadLetter> byKey = new HashMap<>();
        for (var r : dead) if (r.key() != null && r.key().startsWith(p)) assertThat(byKey.put(r.key(), r.value())).as("one dead letter for %s", r.key()).isNull();
        assertThat(byKey.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        expected.forEach((key, codeAndField) -> {
            DeadLetter dl = byKey.get(key);
            assertThat(dl.getErrorCode()).as("code of %s (%s)", key, dl.getReason()).isEqualTo(codeAndField[0]);
            if (codeAndField[1] != null) assertThat(dl.getField()).as("field of %s", key).isEqualTo(codeAndField[1]);
            assertThat(dl.getReason()).isNotBlank();
            assertThat(dl.getOriginalValue()).as("original bytes of %s", key).isNotNull();
            assertThat(dl.getSourceOffset()).isGreaterThanOrEqualTo(0);
        });
        assertThat(byKey.get(p + "garbage").getOriginalValue().array()).isEqualTo(garbage);
        assertThat(byKey.get(p + "garbage").getSourceTopic()).isEqualTo(Topics.REQUESTS);

        for (var entry : waiting.entrySet()) {
            InferenceResponse resp = entry.getValue().get(60, TimeUnit.SECONDS);
            assertThat(resp.getStatus()).as(entry.getKey()).isEqualTo(ResponseStatus.ERROR);
            assertThat(resp.getError().getCode()).isEqualTo(expected.get(entry.getKey())[0]);
            assertThat(resp.getError().getField()).isEqualTo(expected.get(entry.getKey())[1]);
        }
    }

    private static InferenceRequest withId(InferenceRequest r, String id) {
        r.setRequestId(id);
        return r;
    }

    private static <V> long count(List<ConsumerRecord<String, V>> got, Function<ConsumerRecord<String, V>, String> id, java.util.Set<String> ids) {
        return got.stream().map(id).filter(ids::contains).count();
    }

    private static <V> Map<String, Long> perId(List<ConsumerRecord<String, V>> got, Function<ConsumerRecord<String, V>, String> id, java.util.Set<String> ids) {
        return got.stream().map(id).filter(ids::contains).collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    }

}
