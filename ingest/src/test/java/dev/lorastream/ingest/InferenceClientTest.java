package dev.lorastream.ingest;

import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InferenceClientTest {
    private final InMemoryGateway gateway = new InMemoryGateway();
    private final InferenceClient client = new InferenceClient(gateway, Duration.ofSeconds(5));

    @AfterEach
    void close() { client.close(); }

    @Test
    void responseCompletesTheFutureOfItsRequestId() throws Exception {
        gateway.respondWith(r -> TestResponses.ok(r, "hello " + r.getPrompt(), List.of(7, 8)));
        InferenceRequest request = Requests.text("acme", "dermatology", "skin", 2);

        InferenceResponse response = client.submit(request).get();

        assertThat(response.getRequestId()).isEqualTo(request.getRequestId());
        assertThat(response.getStatus()).isEqualTo(ResponseStatus.OK);
        assertThat(response.getText()).isEqualTo("hello skin");
    }

    @Test
    void responsesArrivingOutOfOrderEachReachTheirOwnRequest() throws Exception {
        InferenceRequest first = Requests.text("acme", null, "one", 1);
        InferenceRequest second = Requests.text("acme", null, "two", 1);
        CompletableFuture<InferenceResponse> f1 = client.submit(first);
        CompletableFuture<InferenceResponse> f2 = client.submit(second);

        gateway.deliver(TestResponses.ok(second, "answer two", List.of(2)));
        gateway.deliver(TestResponses.ok(first, "answer one", List.of(1)));

        assertThat(f1.get().getText()).isEqualTo("answer one");
        assertThat(f2.get().getText()).isEqualTo("answer two");
    }

    @Test
    void responseForAnUnknownIdIsIgnored() {
        InferenceRequest mine = Requests.text("acme", null, "mine", 1);
        CompletableFuture<InferenceResponse> future = client.submit(mine);

        gateway.deliver(TestResponses.ok(Requests.text("other", null, "theirs", 1), "not yours", List.of(1)));

        assertThat(future).isNotDone();
        assertThat(client.pendingCount()).isEqualTo(1);
    }

    @Test
    void anotherTenantsAnswerUnderTheSameRequestIdIsIgnored() throws Exception {
        InferenceRequest mine = Requests.text("acme", null, "mine", 1);
        CompletableFuture<InferenceResponse> future = client.submit(mine);
        InferenceRequest squatter = InferenceRequest.newBuilder(mine).setTenant("mallory").build();

        gateway.deliver(TestResponses.error(squatter, "DUPLICATE_REQUEST_ID", "request_id", "already used by another tenant"));
        assertThat(future).isNotDone();

        gateway.deliver(TestResponses.ok(mine, "yours", List.of(1)));
        assertThat(future.get().getText()).isEqualTo("yours");
    }

    @Test
    void errorResponseCompletesNormallyWithTheErrorDetails() throws Exception {
        gateway.respondWith(r -> TestResponses.error(r, "UNKNOWN_ADAPTER", "adapter_id", "no adapter 'nope'"));

        InferenceResponse response = client.submit(Requests.text("acme", "nope", "hi", 1)).get();

        assertThat(response.getStatus()).isEqualTo(ResponseStatus.ERROR);
        assertThat(response.getError().getCode()).isEqualTo("UNKNOWN_ADAPTER");
        assertThat(response.getError().getField()).isEqualTo("adapter_id");
    }

    @Test
    void unansweredRequestTimesOutWithAMessageNamingItsIdAndTopic() {
        InferenceRequest request = Requests.text("acme", null, "silence", 1);

        CompletableFuture<InferenceResponse> future = client.submit(request, Duration.ofMillis(100));

        assertThatThrownBy(future::get).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(RequestTimeoutException.class)
                .hasMessageContaining(request.getRequestId())
                .hasMessageContaining(InMemoryGateway.REPLY_TOPIC)
                .hasMessageContaining("100 ms");
    }

    @Test
    void awaitReturnsAResponseThatArrivedBeforeItWasCalled() {
        gateway.respondWith(r -> TestResponses.ok(r, "early", List.of(1)));
        InferenceRequest request = Requests.text("acme", null, "hi", 1);
        client.submit(request).join();

        InferenceResponse response = client.await(request.getRequestId(), Duration.ofSeconds(1));

        assertThat(response.getText()).isEqualTo("early");
        assertThat(client.pendingCount()).isZero();
    }

    @Test
    void awaitTimesOutWhenNoResponseArrives() {
        InferenceRequest request = Requests.text("acme", null, "hi", 1);
        client.submit(request);

        assertThatThrownBy(() -> client.await(request.getRequestId(), Duration.ofMillis(50)))
                .isInstanceOf(RequestTimeoutException.class)
                .hasMessageContaining("no response for request " + request.getRequestId());
    }

    @Test
    void awaitOfAnIdNeverSubmittedIsRefused() {
        assertThatThrownBy(() -> client.await("never-sent", Duration.ofMillis(50)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("never-sent");
    }

    @Test
    void requestWithoutAnIdIsRefused() {
        InferenceRequest request = Requests.text("acme", null, "hi", 1);
        request.setRequestId("");

        assertThatThrownBy(() -> client.submit(request)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("request_id").hasMessageContaining("newRequestId");
        assertThat(gateway.sent).isEmpty();
    }

    @Test
    void duplicatePendingIdIsRefused() {
        InferenceRequest request = Requests.text("acme", null, "hi", 1);
        client.submit(request);

        assertThatThrownBy(() -> client.submit(request)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already pending");
    }

    @Test
    void submittedRequestNamesTheReplyTopicAndADeadline() {
        Instant before = Instant.now();

        client.submit(Requests.text("acme", null, "hi", 1), Duration.ofSeconds(30));

        InferenceRequest sent = gateway.sent.getFirst();
        assertThat(sent.getReplyTopic()).isEqualTo(InMemoryGateway.REPLY_TOPIC);
        assertThat(sent.getDeadlineMs()).isAfterOrEqualTo(before.plusSeconds(29)).isBefore(before.plusSeconds(31));
    }

    @Test
    void requestForAnotherReplyTopicIsRefused() {
        InferenceRequest request = Requests.text("acme", null, "hi", 1);
        request.setReplyTopic("someone.elses.topic");

        assertThatThrownBy(() -> client.submit(request)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("someone.elses.topic");
    }

    @Test
    void sendFailureCompletesTheFutureExceptionally() {
        gateway.failSends(new TimeoutException("broker gone"));

        CompletableFuture<InferenceResponse> future = client.submit(Requests.text("acme", null, "hi", 1));

        assertThatThrownBy(future::get).cause().isInstanceOf(IngestException.class)
                .hasMessageContaining("could not publish").hasMessageContaining("broker gone");
    }

    @Test
    void closingFailsPendingRequestsAndClosesTheGateway() {
        CompletableFuture<InferenceResponse> future = client.submit(Requests.text("acme", null, "hi", 1));

        client.close();

        assertThatThrownBy(future::get).cause().isInstanceOf(IngestException.class).hasMessageContaining("closed");
        assertThat(gateway.closed()).isTrue();
        assertThatThrownBy(() -> client.submit(Requests.text("acme", null, "hi", 1))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void newRequestIdsAreUnique() {
        assertThat(InferenceClient.newRequestId()).isNotEqualTo(InferenceClient.newRequestId()).hasSize(36);
    }
}
