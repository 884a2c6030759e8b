package dev.lorastream.ingest;

import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.CancelRequest;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.TokenChunk;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The transport under an {@link InferenceClient}: publishes requests and dead letters, delivers
 * the responses it reads, and keeps the adapter catalog. {@link KafkaRequestGateway} does it over
 * Kafka; tests substitute an in-memory one so that correlation, HTTP and CLI logic run without a broker.
 */
public interface RequestGateway extends AutoCloseable {

    /** Starts delivering every response read from {@link #replyTopic()} to the listener; called once, before any send. */
    void start(Consumer<InferenceResponse> listener);

    /** Starts delivering the token chunks of streaming requests to the listener; by default there are none (a gateway that does not stream). */
    default void startStream(Consumer<TokenChunk> listener) {}

    /** Publishes a request (key: its request id); completes when the broker has acknowledged it. */
    CompletableFuture<Void> send(InferenceRequest request);

    /** Publishes a cancellation (key: its request id); by default there is nobody to tell (a gateway without workers). */
    default CompletableFuture<Void> cancel(CancelRequest cancel) { return CompletableFuture.completedFuture(null); }

    /** Publishes a dead letter (key: its request id); completes when the broker has acknowledged it. */
    CompletableFuture<Void> deadLetter(DeadLetter letter);

    /** The adapters known from the catalog, by adapter id (a snapshot; empty until the catalog is read). */
    Map<String, AdapterDescriptor> adapters();

    /** The topic responses are read from; requests name it as their reply topic. */
    String replyTopic();

    /** Where this gateway points, for logs and error messages. */
    String describe();

    @Override
    void close();
}
