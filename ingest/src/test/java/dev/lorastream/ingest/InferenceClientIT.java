package dev.lorastream.ingest;

import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.cli.Cli;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The client against a real broker and a real registry, with a fake worker answering on the reply topic. */
class InferenceClientIT {
    private static KafkaPlatform platform;
    private static FakeWorker worker;
    private static InferenceClient client;

    @BeforeAll
    static void start() {
        platform = TestPlatform.shared();
        TopicSetup.ensure(platform.bootstrapServers(), 4, (short) 1);
        worker = new FakeWorker(platform.bootstrapServers(), new Topics(new HttpSchemaRegistryClient(platform.schemaRegistryUrl())),
                IngestTestAnswers::answer);
        client = new InferenceClient(config().build());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (client != null) client.close();
        if (worker != null) worker.close();
    }

    private static ClientConfig.Builder config() {
        return ClientConfig.builder(platform.bootstrapServers(), platform.schemaRegistryUrl())
                .clientId("client-it-" + UUID.randomUUID()).defaultTimeout(Duration.ofSeconds(30));
    }

    private static String tenant() { return "tenant-" + UUID.randomUUID(); }

    @Test
    void okResponseArrivesForItsRequestId() throws Exception {
        InferenceRequest request = Requests.text(tenant(), "dermatology", "itchy skin " + UUID.randomUUID(), 3);

        InferenceResponse response = client.submit(request).get();

        assertThat(response.getRequestId()).isEqualTo(request.getRequestId());
        assertThat(response.getStatus()).isEqualTo(ResponseStatus.OK);
        assertThat(response.getText()).isEqualTo("echo[dermatology]: " + request.getPrompt());
        assertThat(response.getTokenIds()).containsExactly(1, 2, 3);
    }

    @Test
    void errorResponseArrivesWithItsCodeAndField() {
        InferenceRequest request = Requests.text(tenant(), null, "fail " + UUID.randomUUID(), 3);

        InferenceResponse response = client.call(request, Duration.ofSeconds(30));

        assertThat(response.getStatus()).isEqualTo(ResponseStatus.ERROR);
        assertThat(response.getError().getCode()).isEqualTo("BAD_PARAMETER");
        assertThat(response.getError().getField()).isEqualTo("params.temperature");
    }

    @Test
    void manyConcurrentRequestsEachGetTheirOwnAnswer() throws Exception {
        List<InferenceRequest> requests = new ArrayList<>();
        List<CompletableFuture<InferenceResponse>> futures = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            InferenceRequest request = Requests.text(tenant(), i % 2 == 0 ? null : "cardiology", "q" + i + " " + UUID.randomUUID(), 2);
            requests.add(request);
            futures.add(client.submit(request));
        }

        for (int i = 0; i < requests.size(); i++) {
            InferenceResponse response = futures.get(i).get();
            assertThat(response.getRequestId()).isEqualTo(requests.get(i).getRequestId());
            assertThat(response.getText()).endsWith(": " + requests.get(i).getPrompt());
        }
    }

    @Test
    void responseForAnotherIdIsIgnoredAndTheOwnOneStillArrives() {
        InferenceRequest request = Requests.text(tenant(), null, "decoy " + UUID.randomUUID(), 2);

        InferenceResponse response = client.call(request, Duration.ofSeconds(30));

        assertThat(response.getText()).isEqualTo("echo: " + request.getPrompt());
    }

    @Test
    void responseOfAnAbortedTransactionIsNeverDelivered() {
        InferenceRequest request = Requests.text(tenant(), null, "abort " + UUID.randomUUID(), 2);

        InferenceResponse response = client.call(request, Duration.ofSeconds(30));

        assertThat(response.getText()).isEqualTo("echo: " + request.getPrompt());
    }

    @Test
    void tokenIdPromptRoundTrips() {
        InferenceRequest request = Requests.tokens(tenant(), null, List.of(4, 5, 6), 2);

        assertThat(client.call(request, Duration.ofSeconds(30)).getText()).isEqualTo("echo: ids[4, 5, 6]");
    }

    @Test
    void unansweredRequestTimesOutWithAClearMessage() {
        InferenceRequest request = Requests.text(tenant(), null, "silent " + UUID.randomUUID(), 2);

        CompletableFuture<InferenceResponse> future = client.submit(request, Duration.ofSeconds(2));

        assertThatThrownBy(future::get).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(RequestTimeoutException.class)
                .hasMessageContaining(request.getRequestId()).hasMessageContaining(Topics.RESPONSES);
    }

    @Test
    void missingReplyTopicIsCreatedAndUsed() throws Exception {
        String replyTopic = "it.replies." + UUID.randomUUID();

        try (InferenceClient own = new InferenceClient(config().replyTopic(replyTopic).build());
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers()))) {
            assertThat(admin.listTopics().names().get()).contains(replyTopic);
            InferenceRequest request = Requests.text(tenant(), null, "own topic " + UUID.randomUUID(), 2);

            InferenceResponse response = own.call(request, Duration.ofSeconds(30));

            assertThat(response.getText()).isEqualTo("echo: " + request.getPrompt());
        }
    }

    @Test
    void submitCommandPrintsTheAnswerAndExitsZero() {
        StringWriter out = new StringWriter();
        String prompt = "cli " + UUID.randomUUID();

        int exit = Cli.commandLine(new SubmitCommand(), Map.of()).setOut(new PrintWriter(out, true))
                .execute("--bootstrap-servers", platform.bootstrapServers(),
                        "--schema-registry", platform.schemaRegistryUrl(), "--adapter", "nutrition", "--prompt", prompt, "--timeout-s", "30");

        assertThat(exit).isZero();
        assertThat(out.toString()).contains("status: OK", "text: echo[nutrition]: " + prompt, "adapter: nutrition");
    }

    @Test
    void submitCommandExitsOneOnAnErrorResponse() {
        StringWriter out = new StringWriter();

        int exit = Cli.commandLine(new SubmitCommand(), Map.of()).setOut(new PrintWriter(out, true))
                .execute("--bootstrap-servers", platform.bootstrapServers(), "--schema-registry", platform.schemaRegistryUrl(),
                        "--prompt", "fail " + UUID.randomUUID(), "--timeout-s", "30");

        assertThat(exit).isEqualTo(1);
        assertThat(out.toString()).contains("status: ERROR", "error_code: BAD_PARAMETER", "error_field: params.temperature");
    }
}
