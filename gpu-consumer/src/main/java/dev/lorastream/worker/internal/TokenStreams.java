package dev.lorastream.worker.internal;

import dev.lorastream.engine.TokenListener;
import dev.lorastream.schemas.StopSequences;
import dev.lorastream.schemas.TokenChunk;
import dev.lorastream.schemas.topic.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Publishes the tokens of streaming requests on inference.stream ({@link TokenChunk}, key: request
 * id) as the engine generates them, from a plain producer of its own, outside the worker's
 * transaction: a preview that a reader shows at once, while the request's response stays the
 * answer of record in the transaction. The engine's listener only queues (it runs on the stepping
 * thread); one thread here takes what has queued, turns each request's new tokens into text and
 * sends one chunk per request: tokens that arrive together go together.
 *
 * <p>Text is the decoding of all the attempt's tokens so far minus what was sent; a trailing
 * replacement character (a code point whose bytes are not all generated yet) waits for the token
 * that completes it. Each {@link #open} is one attempt (a retried request streams again from its
 * first token, under a new attempt id); readers keep the text they have by {@code text_offset}.
 * A chunk that cannot be sent is logged and dropped: the response still carries the whole text.
 */
public final class TokenStreams implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TokenStreams.class);
    private static final char INCOMPLETE = '\uFFFD';

    private final String workerId;
    private final Function<int[], String> decode;
    private final Producer<String, SpecificRecord> producer;
    private final Clock clock;
    private final LinkedBlockingQueue<Event> queue = new LinkedBlockingQueue<>();
    private final AtomicLong attempts = new AtomicLong();
    private final Thread thread;
    private volatile boolean closed;

    /** A token of an attempt, or (token -1) its end. */
    private record Event(Attempt attempt, int index, int token) {}

    private static final class Attempt {
        final String requestId, id;
        final List<String> stop;
        final List<Integer> tokens = new ArrayList<>();
        int sentTokens;
        String sentText = "";

        Attempt(String requestId, String id, List<String> stop) {
            this.requestId = requestId;
            this.id = id;
            this.stop = stop;
        }
    }

    public TokenStreams(String workerId, Function<int[], String> decode, Producer<String, SpecificRecord> producer, Clock clock) {
        this.workerId = workerId;
        this.decode = decode;
        this.producer = producer;
        this.clock = clock;
        this.thread = new Thread(this::run, "lorastream-stream-" + workerId);
        thread.setDaemon(true);
        thread.start();
    }

    /** A new attempt at the request: the listener to give the engine, and {@link Open#end()} to call when the generation ends. */
    public Open open(String requestId) {
        return open(requestId, List.of());
    }

    /** As {@link #open(String)}, for a request with stop sequences: text that may begin one waits, and none is sent from one on. */
    public Open open(String requestId, List<String> stop) {
        Attempt a = new Attempt(requestId, workerId + "#" + attempts.incrementAndGet(), List.copyOf(stop));
        return new Open((index, token) -> queue.add(new Event(a, index, token)), () -> queue.add(new Event(a, -1, -1)));
    }

    /** What {@link #open} gives: the engine's listener and the end of the attempt. */
    public record Open(TokenListener listener, Runnable end) {}

    private void run() {
        List<Event> batch = new ArrayList<>();
        while (!closed || !queue.isEmpty()) {
            try {
                Event first = queue.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (first == null) continue;
                batch.add(first);
                queue.drainTo(batch);
                publish(batch);
            } catch (InterruptedException e) {
                if (closed) break;
            } catch (RuntimeException e) {
                log.warn("streaming tokens failed: {}", e.toString());
            } finally {
                batch.clear();
            }
        }
    }

    private void publish(List<Event> events) {
        Map<Attempt, Boolean> touched = new LinkedHashMap<>();
        Map<Attempt, Boolean> ended = new HashMap<>();
        for (Event e : events) {
            if (e.token() < 0) {
                ended.put(e.attempt(), true);
            } else if (e.index() == e.attempt().tokens.size()) {
                e.attempt().tokens.add(e.token());
            }
            touched.put(e.attempt(), true);
        }
        for (Attempt a : touched.keySet()) send(a, ended.containsKey(a));
    }

    /** Sends the attempt's tokens not yet sent, with the text they complete (all of it when the attempt has ended). */
    private void send(Attempt a, boolean end) {
        if (a.tokens.size() == a.sentTokens && !end) return;
        int[] all = a.tokens.stream().mapToInt(Integer::intValue).toArray();
        String text = decode.apply(all);
        int stable = text.length();
        if (!end) while (stable > 0 && text.charAt(stable - 1) == INCOMPLETE) stable--;
        if (!a.stop.isEmpty()) {
            int at = StopSequences.firstIndex(text, a.stop);
            if (at >= 0) stable = Math.min(stable, at); // the stop sequence and what follows are not returned
            else if (!end) stable = Math.max(a.sentText.length(), Math.min(stable, text.length() - (StopSequences.longest(a.stop) - 1)));
        }
        String delta;
        int textOffset = a.sentText.length();
        if (stable >= textOffset && text.startsWith(a.sentText)) {
            delta = text.substring(textOffset, stable);
        } else {
            // the decoding of more tokens changed earlier text (a tokenizer that merges across tokens): send nothing
            // new for it; the response has the final text
            delta = "";
        }
        List<Integer> ids = a.tokens.subList(a.sentTokens, a.tokens.size());
        if (ids.isEmpty() && delta.isEmpty()) return; // an end with nothing held back
        TokenChunk chunk = TokenChunk.newBuilder()
                .setRequestId(a.requestId)
                .setWorkerId(workerId)
                .setAttempt(a.id)
                .setTokenOffset(a.sentTokens)
                .setTokenIds(new ArrayList<>(ids))
                .setTextOffset(textOffset)
                .setText(delta)
                .setCreatedAtMs(clock.instant())
                .build();
        a.sentTokens = a.tokens.size();
        a.sentText = a.sentText + delta;
        producer.send(new ProducerRecord<>(Topics.STREAM, a.requestId, chunk), (meta, e) -> {
            if (e != null) log.warn("token chunk of {} not delivered: {}", a.requestId, e.toString());
        });
    }

    /** Sends what has queued, then closes the producer. */
    @Override
    public void close() {
        closed = true;
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            producer.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            log.warn("closing the stream producer: {}", e.toString());
        }
    }
}
