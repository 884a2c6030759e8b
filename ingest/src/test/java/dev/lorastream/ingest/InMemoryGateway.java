package dev.lorastream.ingest;

import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.TokenChunk;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;

/** The test face of {@link RequestGateway}: records what is sent and answers through a responder function. */
public final class InMemoryGateway implements RequestGateway {
    public static final String REPLY_TOPIC = "test.replies";

    public final List<InferenceRequest> sent = new CopyOnWriteArrayList<>();
    public final List<DeadLetter> deadLetters = new CopyOnWriteArrayList<>();
    public final Map<String, AdapterDescriptor> catalog = new ConcurrentHashMap<>();
    private volatile Function<InferenceRequest, InferenceResponse> responder = request -> null;
    private volatile RuntimeException sendFailure;
    private volatile Consumer<InferenceResponse> listener;
    private volatile Consumer<TokenChunk> streamListener;
    private volatile Function<InferenceRequest, List<TokenChunk>> chunker = request -> List.of();
    private volatile boolean closed;

    /** Answers every request with the function's response (null: no answer), delivered asynchronously. */
    public InMemoryGateway respondWith(Function<InferenceRequest, InferenceResponse> responder) {
        this.responder = responder;
        return this;
    }

    /** Streams these chunks (before the response) for every request that asks to stream. */
    public InMemoryGateway chunksWith(Function<InferenceRequest, List<TokenChunk>> chunker) {
        this.chunker = chunker;
        return this;
    }

    /** Makes every following send fail (as a broker refusal would). */
    public InMemoryGateway failSends(RuntimeException failure) {
        this.sendFailure = failure;
        return this;
    }

    /** Delivers a response as if read from the reply topic. */
    public void deliver(InferenceResponse response) { listener.accept(response); }

    public boolean closed() { return closed; }

    @Override
    public void start(Consumer<InferenceResponse> listener) {
        if (this.listener != null) throw new IllegalStateException("started twice");
        this.listener = listener;
    }

    @Override
    public void startStream(Consumer<TokenChunk> listener) { this.streamListener = listener; }

    @Override
    public CompletableFuture<Void> send(InferenceRequest request) {
        if (sendFailure != null) return CompletableFuture.failedFuture(sendFailure);
        sent.add(request);
        InferenceResponse response = responder.apply(request);
        List<TokenChunk> chunks = request.getParams().getStream() && streamListener != null ? chunker.apply(request) : List.of();
        if (response != null || !chunks.isEmpty()) CompletableFuture.runAsync(() -> {
            chunks.forEach(streamListener);
            if (response != null) deliver(response);
        });
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> deadLetter(DeadLetter letter) {
        deadLetters.add(letter);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public Map<String, AdapterDescriptor> adapters() { return Map.copyOf(catalog); }

    @Override
    public String replyTopic() { return REPLY_TOPIC; }

    @Override
    public String describe() { return "in-memory gateway"; }

    @Override
    public void close() { closed = true; }
}
