package dev.lorastream.router;

import dev.lorastream.router.internal.DeadLetterExceptionHandler;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.ErrorCode;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.registry.InMemorySchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryException;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.TopicDirectory;
import dev.lorastream.schemas.topic.Topics;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RouterTopologyTest {
    private static final String REPLIES = "inference.responses.app";

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    private final RecordingPlacement placement = new RecordingPlacement();
    private final AvroSerializer<InferenceRequest> requestSerializer = new AvroSerializer<>(registry, false);
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> requests;
    private TestOutputTopic<String, InferenceRequest> routed;
    private TestOutputTopic<String, DeadLetter> dlq;
    private TestOutputTopic<String, InferenceResponse> responses;
    private TestOutputTopic<String, InferenceResponse> replies;
    private TestOutputTopic<String, byte[]> byId;

    @BeforeEach
    void startDriver() { startDriver(registry); }

    private void startDriver(SchemaRegistryClient driverRegistry) {
        RouterConfig config = RouterConfig.of("unused:9092", "http://unused:8081");
        Properties props = config.toStreamsProperties();
        props.put(DeadLetterExceptionHandler.REGISTRY_CLIENT_CONFIG, driverRegistry);
        // the cluster has every topic but inference.responses.gone, each with one partition (as the driver's)
        TopicDirectory topics = TopicDirectory.describing(topic -> topic.equals("inference.responses.gone") ? 0 : 1, java.time.Clock.systemUTC(), () -> { });
        driver = new TopologyTestDriver(RouterTopology.buildTopology(config, driverRegistry, placement, topics), props);
        requests = driver.createInputTopic(Topics.REQUESTS, new ByteArraySerializer(), new ByteArraySerializer());
        routed = driver.createOutputTopic(Topics.ROUTED, new StringDeserializer(), new AvroDeserializer<>(registry, InferenceRequest.class));
        dlq = driver.createOutputTopic(Topics.DLQ, new StringDeserializer(), new AvroDeserializer<>(registry, DeadLetter.class));
        responses = driver.createOutputTopic(Topics.RESPONSES, new StringDeserializer(), new AvroDeserializer<>(registry, InferenceResponse.class));
        replies = driver.createOutputTopic(REPLIES, new StringDeserializer(), new AvroDeserializer<>(registry, InferenceResponse.class));
        byId = driver.createOutputTopic(Topics.REQUESTS_BY_ID, new StringDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer());
    }

    @AfterEach
    void closeDriver() { driver.close(); }

    private byte[] bytes(InferenceRequest request) { return requestSerializer.serialize(Topics.REQUESTS, request); }

    private static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    private void send(String key, byte[] value) { requests.pipeInput(key == null ? null : utf8(key), value); }

    private void send(InferenceRequest request) { send(request.getRequestId(), bytes(request)); }

    // ---- valid requests ------------------------------------------------------------------------

    @Test
    void validRequestsAreRoutedKeyedByTheirAdapterOrTheBackboneKey() {
        List<InferenceRequest> sent = List.of(
                Requests.valid("r-1", "dermatology").build(),
                Requests.valid("r-2", "cardiology").build(),
                Requests.valid("r-3", null).build(),
                Requests.valid("r-4", "nutrition").setPrompt(null).setPromptTokenIds(List.of(1, 2, 3)).build());
        sent.forEach(this::send);

        List<TestRecord<String, InferenceRequest>> out = routed.readRecordsToList();
        assertThat(out).extracting(TestRecord::key).containsExactly("dermatology", "cardiology", Topics.BASE_MODEL_KEY, "nutrition");
        assertThat(out).extracting(TestRecord::value).containsExactlyElementsOf(sent);
        assertThat(dlq.isEmpty()).isTrue();
        assertThat(responses.isEmpty()).isTrue();
    }

    @Test
    void theRoutedSinkAsksThePlacementStrategyWithTheAdapterKeyOfEveryRequest() {
        for (int i = 0; i < 6; i++) send(Requests.valid("r-" + i, i % 3 == 0 ? null : "dermatology").build());

        assertThat(routed.getQueueSize()).isEqualTo(6);
        assertThat(placement.chosen.get("dermatology")).hasSize(4);
        assertThat(placement.chosen.get(Topics.BASE_MODEL_KEY)).hasSize(2);
    }

    // ---- requests that decode but are invalid ---------------------------------------------------

    static Stream<Arguments> invalidRequests() {
        return Stream.of(
                bad("blank tenant", b -> b.setTenant("  "), "tenant", ErrorCode.INVALID_REQUEST, "blank"),
                bad("empty prompt", b -> b.setPrompt(""), "prompt", ErrorCode.INVALID_REQUEST, "is empty and prompt_token_ids is missing"),
                bad("prompt and ids missing", b -> b.setPrompt(null).setPromptTokenIds(null), "prompt", ErrorCode.INVALID_REQUEST, "is missing and prompt_token_ids is missing"),
                bad("over-long prompt", b -> b.setPrompt("x".repeat(32_769)), "prompt", ErrorCode.INVALID_REQUEST, "32769 characters"),
                bad("negative token id", b -> b.setPrompt(null).setPromptTokenIds(List.of(3, -1)), "prompt_token_ids",
                        ErrorCode.INVALID_REQUEST, "index 1 is -1"),
                bad("too many token ids", b -> b.setPrompt(null).setPromptTokenIds(Collections.nCopies(8_193, 1)), "prompt_token_ids",
                        ErrorCode.INVALID_REQUEST, "8193 ids"),
                bad("max_new_tokens 0", b -> b.setParams(Requests.params().setMaxNewTokens(0).build()), "params.max_new_tokens",
                        ErrorCode.BAD_PARAMETER, "between 1 and 4096"),
                bad("max_new_tokens too large", b -> b.setParams(Requests.params().setMaxNewTokens(4_097).build()), "params.max_new_tokens",
                        ErrorCode.BAD_PARAMETER, "is 4097"),
                bad("temperature 3", b -> b.setParams(Requests.params().setTemperature(3f).build()), "params.temperature",
                        ErrorCode.BAD_PARAMETER, "is 3.0"),
                bad("top_p 0", b -> b.setParams(Requests.params().setTopP(0f).build()), "params.top_p",
                        ErrorCode.BAD_PARAMETER, "is 0.0"),
                bad("negative top_k", b -> b.setParams(Requests.params().setTopK(-2).build()), "params.top_k",
                        ErrorCode.BAD_PARAMETER, "is -2"),
                bad("bad adapter id", b -> b.setAdapterId("../etc/passwd"), "adapter_id", ErrorCode.INVALID_REQUEST, "not an adapter id"),
                bad("bad reply topic", b -> b.setReplyTopic("replies for me!"), "reply_topic", ErrorCode.INVALID_REQUEST,
                        "not a legal Kafka topic name"));
    }

    private static Arguments bad(String name, UnaryOperator<InferenceRequest.Builder> spoil, String field, ErrorCode code, String reason) {
        return Arguments.of(Named.of(name, spoil), field, code, reason);
    }

    @ParameterizedTest
    @MethodSource("invalidRequests")
    void anInvalidRequestIsDeadLetteredWithItsBytesAndOffsetAndAnsweredWithAnError(
            UnaryOperator<InferenceRequest.Builder> spoil, String field, ErrorCode code, String reason) {
        send(Requests.valid("ok-1", "dermatology").build());
        send(Requests.valid("ok-2", "cardiology").build());
        InferenceRequest request = spoil.apply(Requests.valid("bad-1", "dermatology")).build();
        byte[] value = bytes(request);

        send("bad-1", value);

        assertThat(routed.readKeyValuesToList()).hasSize(2);
        TestRecord<String, DeadLetter> letter = dlq.readRecord();
        assertThat(dlq.isEmpty()).isTrue();
        assertThat(letter.key()).isEqualTo("bad-1");
        assertDeadLetter(letter.value(), code, field, reason, utf8("bad-1"), value, 2L);
        assertThat(letter.value().getRequestId()).isEqualTo("bad-1");

        TestRecord<String, InferenceResponse> response = responses.readRecord();
        assertThat(responses.isEmpty()).isTrue();
        assertThat(response.key()).isEqualTo("bad-1");
        assertThat(response.value().getStatus()).isEqualTo(ResponseStatus.ERROR);
        assertThat(response.value().getError().getCode()).isEqualTo(code.name());
        assertThat(response.value().getError().getField()).isEqualTo(field);
        assertThat(response.value().getError().getMessage()).startsWith(field + " ").contains(reason);
        assertThat(response.value().getTenant()).isEqualTo(request.getTenant());
        assertThat(response.value().getAttributes()).isEqualTo(request.getAttributes());
    }

    @Test
    void aBlankRequestIdIsDeadLetteredUnderTheOriginalKeyWithoutAResponse() {
        byte[] value = bytes(Requests.valid(" ", "dermatology").build());

        send("the-key", value);

        TestRecord<String, DeadLetter> letter = dlq.readRecord();
        assertThat(letter.key()).isEqualTo("the-key");
        assertDeadLetter(letter.value(), ErrorCode.INVALID_REQUEST, "request_id", "blank", utf8("the-key"), value, 0L);
        assertThat(letter.value().getRequestId()).isNull();
        assertThat(responses.isEmpty()).isTrue();
        assertThat(routed.isEmpty()).isTrue();
    }

    @Test
    void theErrorResponseGoesToTheCallersReplyTopic() {
        send(Requests.valid("r-1", "nutrition").setReplyTopic(REPLIES)
                .setParams(Requests.params().setTemperature(3f).build()).build());

        TestRecord<String, InferenceResponse> reply = replies.readRecord();
        assertThat(reply.key()).isEqualTo("r-1");
        assertThat(reply.value().getAdapterId()).isEqualTo("nutrition");
        assertThat(reply.value().getError().getField()).isEqualTo("params.temperature");
        assertThat(responses.isEmpty()).isTrue();
        assertThat(dlq.readValue().getField()).isEqualTo("params.temperature");
    }

    @Test
    void aReplyTopicTheClusterDoesNotHaveIsRefusedAndAnsweredOnTheDefaultResponsesTopic() {
        send(Requests.valid("r-1", "nutrition").setReplyTopic("inference.responses.gone").build());

        InferenceResponse answer = responses.readValue();
        assertThat(answer.getError().getField()).isEqualTo("reply_topic");
        assertThat(answer.getError().getMessage()).contains("'inference.responses.gone' does not exist on the cluster");
        assertThat(dlq.readValue().getField()).isEqualTo("reply_topic");
        assertThat(routed.isEmpty()).isTrue();
    }

    @Test
    void aRequestToThePipelinesOwnTopicIsAnsweredOnTheDefaultResponsesTopic() {
        send(Requests.valid("r-1", "nutrition").setReplyTopic(Topics.REQUESTS).build());

        assertThat(responses.readValue().getError().getField()).isEqualTo("reply_topic");
        assertThat(dlq.readValue().getReason()).contains("one of the pipeline's own topics");
        assertThat(routed.isEmpty()).isTrue();
    }

    @Test
    void severalViolationsAreReportedInOneDeadLetterNamingTheFirstField() {
        send(Requests.valid("r-1", "nutrition").setTenant("")
                .setParams(Requests.params().setTopP(0f).build()).build());

        DeadLetter letter = dlq.readValue();
        assertThat(letter.getField()).isEqualTo("tenant");
        assertThat(letter.getReason()).contains("blank").contains("also params.top_p");
    }

    // ---- records that do not decode ------------------------------------------------------------

    @Test
    void bytesNotInTheWireFormatAreDeadLetteredAsMalformedWithoutAResponse() {
        byte[] value = utf8("{\"request_id\": \"r-1\", \"prompt\": \"hi\"}");

        send("r-1", value);

        TestRecord<String, DeadLetter> letter = dlq.readRecord();
        assertThat(letter.key()).isEqualTo("r-1");
        assertDeadLetter(letter.value(), ErrorCode.MALFORMED_RECORD, null, "magic byte", utf8("r-1"), value, 0L);
        assertThat(letter.value().getRequestId()).isNull();
        assertThat(responses.isEmpty()).isTrue();
        assertThat(routed.isEmpty()).isTrue();
    }

    @Test
    void aValueTooShortForTheHeaderIsMalformed() {
        send(null, new byte[] {0, 0});

        TestRecord<String, DeadLetter> letter = dlq.readRecord();
        assertThat(letter.key()).isNull();
        assertDeadLetter(letter.value(), ErrorCode.MALFORMED_RECORD, null, "too short", null, new byte[] {0, 0}, 0L);
    }

    @Test
    void aSchemaIdTheRegistryDoesNotKnowIsMalformed() {
        byte[] value = {0, 0, 0, 0x30, 0x39, 2, 4, 6};

        send("k", value);

        assertDeadLetter(dlq.readValue(), ErrorCode.MALFORMED_RECORD, null, "schema id 12345 is not known", utf8("k"), value, 0L);
    }

    @Test
    void aTruncatedBodyIsMalformed() {
        byte[] whole = bytes(Requests.valid("r-1", "dermatology").build());
        byte[] value = Arrays.copyOf(whole, whole.length / 2);

        send("r-1", value);

        assertDeadLetter(dlq.readValue(), ErrorCode.MALFORMED_RECORD, null, "not a valid InferenceRequest body", utf8("r-1"), value, 0L);
        assertThat(responses.isEmpty()).isTrue();
    }

    @Test
    void aTombstoneIsMalformed() {
        send("r-1", null);

        assertDeadLetter(dlq.readValue(), ErrorCode.MALFORMED_RECORD, null, "tombstone", utf8("r-1"), null, 0L);
    }

    @Test
    void aRecordOfAnotherEventSchemaIsDeadLetteredAsWrongSchema() {
        WorkerStatus status = WorkerStatus.newBuilder().setWorkerId("w-1").setHost("gpu-1").setState("RUNNING")
                .setRunningRequests(0).setWaitingRequests(0).setFreeMemoryBytes(1L << 30).setExecutionProvider("CPU")
                .setBaseModel("demo").setHeartbeatAtMs(Instant.ofEpochMilli(1)).build();
        byte[] value = new AvroSerializer<WorkerStatus>(registry, false).serialize(Topics.WORKER_STATUS, status);

        send("w-1", value);

        assertDeadLetter(dlq.readValue(), ErrorCode.WRONG_SCHEMA, null, "dev.lorastream.schemas.WorkerStatus", utf8("w-1"), value, 0L);
        assertThat(responses.isEmpty()).isTrue();
        assertThat(routed.isEmpty()).isTrue();
    }

    @Test
    void aRequestWrittenWithoutARequestIdIsDeadLetteredNamingTheMissingField() throws IOException {
        byte[] value = withoutField(Requests.valid("ignored", "dermatology").build(), "request_id");

        send("k-1", value);

        DeadLetter letter = dlq.readValue();
        assertDeadLetter(letter, ErrorCode.WRONG_SCHEMA, "request_id", "has no field request_id", utf8("k-1"), value, 0L);
        assertThat(letter.getRequestId()).isNull();
        assertThat(responses.isEmpty()).isTrue();
    }

    // ---- request ids: one request per id within the dedupe window ----------------------------------

    @Test
    void aSameTenantDuplicateIsDeadLetteredNeitherRoutedNorAnswered() {
        InferenceRequest first = Requests.valid("r-1", "dermatology").build();
        InferenceRequest again = Requests.valid("r-1", "cardiology").setPrompt("served twice?").build();
        send(first);
        send(again);

        assertThat(routed.readRecordsToList()).extracting(TestRecord::value).containsExactly(first);
        DeadLetter letter = dlq.readValue();
        assertDeadLetter(letter, ErrorCode.DUPLICATE_REQUEST_ID, "request_id", "was already used by this tenant", utf8("r-1"), bytes(again), 1L);
        assertThat(letter.getReason()).contains("the first request's answer is its answer").contains("router.dedupe.window.ms");
        assertThat(responses.isEmpty()).isTrue();
        assertThat(dlq.isEmpty()).isTrue();
    }

    @Test
    void anotherTenantsUseOfASeenIdIsRefusedAndThatCallerIsAnswered() {
        send(Requests.valid("r-1", "dermatology").build());
        InferenceRequest squatter = Requests.valid("r-1", "dermatology").setTenant("tenant-b").setReplyTopic(REPLIES).build();
        send(squatter);

        assertThat(routed.getQueueSize()).isEqualTo(1);
        TestRecord<String, InferenceResponse> answer = replies.readRecord();
        assertThat(answer.key()).isEqualTo("r-1");
        assertThat(answer.value().getStatus()).isEqualTo(ResponseStatus.ERROR);
        assertThat(answer.value().getTenant()).isEqualTo("tenant-b");
        assertThat(answer.value().getError().getCode()).isEqualTo(ErrorCode.DUPLICATE_REQUEST_ID.name());
        assertThat(answer.value().getError().getField()).isEqualTo("request_id");
        assertThat(answer.value().getError().getMessage()).contains("already used by another tenant").contains("choose a fresh request id");
        assertDeadLetter(dlq.readValue(), ErrorCode.DUPLICATE_REQUEST_ID, "request_id", "by another tenant", utf8("r-1"), bytes(squatter), 1L);
        assertThat(responses.isEmpty()).isTrue();
    }

    @Test
    void anIdIsRememberedForTheWindowAndServedAgainAfterIt() {
        send(Requests.valid("r-1", "dermatology").build());
        driver.advanceWallClockTime(java.time.Duration.ofMinutes(10).minusSeconds(1));
        send(Requests.valid("r-1", "dermatology").build());
        assertThat(routed.readRecordsToList()).hasSize(1);
        assertThat(dlq.readValue().getErrorCode()).isEqualTo(ErrorCode.DUPLICATE_REQUEST_ID.name());

        driver.advanceWallClockTime(java.time.Duration.ofSeconds(1));
        send(Requests.valid("r-1", "dermatology").build());

        assertThat(routed.readRecordsToList()).hasSize(1);
        assertThat(dlq.isEmpty()).isTrue();
    }

    @Test
    void aRecordKeyedByItsRequestIdOnItsPartitionIsDeduplicatedWithoutTheByIdTopic() {
        send(Requests.valid("r-1", "dermatology").build());
        send(Requests.valid("r-2", "dermatology").build());

        assertThat(routed.getQueueSize()).isEqualTo(2);
        assertThat(byId.isEmpty()).isTrue();
    }

    @Test
    void recordsNotKeyedByTheirRequestIdMeetTheirIdsEarlierUseThroughTheByIdTopic() {
        InferenceRequest request = Requests.valid("r-1", "dermatology").build();
        send("some-other-key", bytes(request));     // offset 0: by way of the by-id topic, routed
        send(request);                               // offset 1: keyed by its id, a duplicate
        send(null, bytes(request));                  // offset 2: no key, by way of the by-id topic, a duplicate

        assertThat(routed.readRecordsToList()).extracting(TestRecord::value).containsExactly(request);
        List<TestRecord<String, byte[]>> copies = byId.readRecordsToList();
        assertThat(copies).extracting(TestRecord::key).containsExactly("r-1", "r-1");
        assertThat(copies.getFirst().value()).isEqualTo(bytes(request));
        List<DeadLetter> letters = dlq.readValuesToList();
        assertThat(letters).hasSize(2);
        assertDeadLetter(letters.get(0), ErrorCode.DUPLICATE_REQUEST_ID, "request_id", "already used", utf8("r-1"), bytes(request), 1L);
        assertDeadLetter(letters.get(1), ErrorCode.DUPLICATE_REQUEST_ID, "request_id", "already used", null, bytes(request), 2L);
    }

    @Test
    void everyRecordGoesThroughTheByIdTopicWhenThePartitionCountIsUnknownAndIsStillServedOnce() {
        driver.close();
        RouterConfig config = RouterConfig.of("unused:9092", "http://unused:8081");
        Properties props = config.toStreamsProperties();
        props.put(DeadLetterExceptionHandler.REGISTRY_CLIENT_CONFIG, registry);
        driver = new TopologyTestDriver(RouterTopology.buildTopology(config, registry, placement, TopicDirectory.TRUSTING), props);
        requests = driver.createInputTopic(Topics.REQUESTS, new ByteArraySerializer(), new ByteArraySerializer());
        routed = driver.createOutputTopic(Topics.ROUTED, new StringDeserializer(), new AvroDeserializer<>(registry, InferenceRequest.class));
        dlq = driver.createOutputTopic(Topics.DLQ, new StringDeserializer(), new AvroDeserializer<>(registry, DeadLetter.class));
        byId = driver.createOutputTopic(Topics.REQUESTS_BY_ID, new StringDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer());

        send(Requests.valid("r-1", "dermatology").build());
        send(Requests.valid("r-1", "dermatology").build());

        assertThat(byId.getQueueSize()).isEqualTo(2);
        assertThat(routed.getQueueSize()).isEqualTo(1);
        assertDeadLetter(dlq.readValue(), ErrorCode.DUPLICATE_REQUEST_ID, "request_id", "already used", utf8("r-1"),
                bytes(Requests.valid("r-1", "dermatology").build()), 1L);
    }

    // ---- nothing dropped, failures of the router's own ------------------------------------------

    @Test
    void everyInputRecordEndsUpRoutedOrDeadLettered() {
        send(Requests.valid("r-1", "dermatology").build());
        send("junk", utf8("junk"));
        send(Requests.valid("r-2", null).setTenant("").build());
        send(Requests.valid("r-3", "cardiology").build());
        send("tomb", null);

        assertThat(routedKeys()).containsExactly("dermatology", "cardiology");
        assertThat(dlq.readRecordsToList()).extracting(r -> r.value().getSourceOffset()).containsExactly(1L, 2L, 4L);
    }

    @Test
    void aFailureInsideTheRouterIsDeadLetteredAsInternalAndRoutingContinues() {
        placement.explodeFor("cursed");
        byte[] value = bytes(Requests.valid("r-1", "cursed").build());

        send("r-1", value);
        send(Requests.valid("r-2", "dermatology").build());

        DeadLetter letter = dlq.readValue();
        assertDeadLetter(letter, ErrorCode.INTERNAL, null, "placement exploded", utf8("r-1"), value, 0L);
        assertThat(routedKeys()).containsExactly("dermatology");
    }

    @Test
    void anUnreachableRegistryFailsTheTaskInsteadOfDeadLetteringTheRecord() {
        byte[] value = bytes(Requests.valid("r-1", "dermatology").build());
        driver.close();
        startDriver(new UnreachableRegistry());

        assertThatThrownBy(() -> send("r-1", value)).hasStackTraceContaining("unreachable");
        assertThat(dlq.isEmpty()).isTrue();
        assertThat(routed.isEmpty()).isTrue();
    }

    // ---- helpers -------------------------------------------------------------------------------

    private List<String> routedKeys() { return routed.readRecordsToList().stream().map(TestRecord::key).toList(); }

    private static void assertDeadLetter(DeadLetter letter, ErrorCode code, String field, String reasonPart,
                                         byte[] key, byte[] value, long offset) {
        assertThat(letter.getErrorCode()).isEqualTo(code.name());
        assertThat(letter.getField()).isEqualTo(field);
        assertThat(letter.getReason()).contains(reasonPart);
        assertThat(letter.getComponent()).isEqualTo("router");
        assertThat(letter.getSourceTopic()).isEqualTo(Topics.REQUESTS);
        assertThat(letter.getSourcePartition()).isZero();
        assertThat(letter.getSourceOffset()).isEqualTo(offset);
        assertThat(bytesOf(letter.getOriginalKey())).isEqualTo(key);
        assertThat(bytesOf(letter.getOriginalValue())).isEqualTo(value);
        assertThat(letter.getFailedAtMs()).isNotNull();
    }

    private static byte[] bytesOf(ByteBuffer buffer) {
        if (buffer == null) return null;
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    /** The request in the wire format, written by a producer whose InferenceRequest schema lacks one field. */
    private byte[] withoutField(InferenceRequest request, String dropped) throws IOException {
        Schema full = InferenceRequest.getClassSchema();
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : full.getFields()) if (!f.name().equals(dropped)) fields.add(new Schema.Field(f, f.schema()));
        Schema legacy = Schema.createRecord(full.getName(), full.getDoc(), full.getNamespace(), false, fields);
        int id = registry.register("legacy-producer-value", legacy);

        GenericData model = new GenericData();
        model.addLogicalTypeConversion(new org.apache.avro.data.TimeConversions.TimestampMillisConversion());
        GenericRecord record = new GenericData.Record(legacy);
        for (Schema.Field f : fields) record.put(f.name(), toGeneric(request.get(f.name()), f.schema()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {0, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id});
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(legacy, model).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    private static Object toGeneric(Object value, Schema schema) {
        if (value instanceof org.apache.avro.specific.SpecificRecord nested) {
            GenericRecord copy = new GenericData.Record(nested.getSchema());
            for (Schema.Field f : nested.getSchema().getFields()) copy.put(f.name(), nested.get(f.pos()));
            return copy;
        }
        return value;
    }

    /** A registry that is down: every call fails the way the HTTP client does when it cannot connect. */
    private static final class UnreachableRegistry implements SchemaRegistryClient {
        private static SchemaRegistryException down() {
            return new SchemaRegistryException("schema registry http://registry:8081 unreachable", 0, 0, null);
        }
        @Override public int register(String subject, Schema schema) { throw down(); }
        @Override public Schema schemaById(int id) { throw down(); }
        @Override public void setCompatibility(String subject, dev.lorastream.schemas.registry.Compatibility level) { throw down(); }
        @Override public dev.lorastream.schemas.registry.Compatibility compatibility(String subject) { throw down(); }
        @Override public boolean isCompatible(String subject, Schema schema) { throw down(); }
        @Override public String describe() { return "unreachable"; }
    }
}
