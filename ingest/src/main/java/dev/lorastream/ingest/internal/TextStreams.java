package dev.lorastream.ingest.internal;

import dev.lorastream.schemas.TokenChunk;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The text of each streaming request told to its caller exactly once: chunks from any attempt (a
 * request served again after its worker died streams again from its start) are cut by their
 * {@code text_offset} to what the caller has not had; a chunk that would leave a gap is skipped;
 * {@link #finish} tells what the response has beyond what was told. Thread-safe.
 */
public final class TextStreams {
    private final Map<String, Told> byId = new ConcurrentHashMap<>();

    private static final class Told {
        final Consumer<String> sink;
        final StringBuilder text = new StringBuilder();
        boolean finished;

        Told(Consumer<String> sink) { this.sink = sink; }
    }

    public void register(String requestId, Consumer<String> sink) { byId.put(requestId, new Told(sink)); }

    public void forget(String requestId) { byId.remove(requestId); }

    /** @return whether the chunk was for a registered request */
    public boolean accept(TokenChunk chunk) {
        Told t = byId.get(chunk.getRequestId());
        if (t == null) return false;
        synchronized (t) {
            int told = t.text.length(), from = chunk.getTextOffset();
            String text = chunk.getText();
            if (!t.finished && from <= told && from + text.length() > told) {
                String fresh = text.substring(told - from);
                t.text.append(fresh);
                t.sink.accept(fresh);
            }
        }
        return true;
    }

    /**
     * Tells the rest of the final text and forgets the request.
     *
     * @return false when what was told is not the start of the final text (an attempt generated
     *         different text than the one before it), in which case nothing more is told
     */
    public boolean finish(String requestId, String finalText) {
        Told t = byId.remove(requestId);
        if (t == null) return true;
        synchronized (t) {
            t.finished = true;
            String told = t.text.toString(), text = finalText == null ? "" : finalText;
            if (!text.startsWith(told)) return false;
            if (text.length() > told.length()) t.sink.accept(text.substring(told.length()));
            return true;
        }
    }
}
