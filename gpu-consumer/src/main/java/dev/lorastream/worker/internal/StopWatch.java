package dev.lorastream.worker.internal;

import dev.lorastream.engine.TokenListener;
import dev.lorastream.schemas.StopSequences;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Ends a generation at the token whose text completes one of the request's stop sequences: it
 * decodes the tokens so far after each one (on the engine's thread) and tells the engine to stop
 * there. Tokens are passed on to {@code inner} (the stream) first. The response's text is cut
 * before the stop sequence where the output is built ({@link BatchProcessor#served}).
 */
final class StopWatch implements TokenListener {
    private final List<String> stop;
    private final Function<int[], String> decode;
    private final TokenListener inner;
    private int[] tokens = new int[16];
    private int count;
    private boolean found;

    StopWatch(List<String> stop, Function<int[], String> decode, TokenListener inner) {
        this.stop = List.copyOf(stop);
        this.decode = decode;
        this.inner = inner;
    }

    @Override
    public void onToken(int index, int tokenId) {
        inner.onToken(index, tokenId);
        if (index != count) return;
        if (count == tokens.length) tokens = Arrays.copyOf(tokens, 2 * count);
        tokens[count++] = tokenId;
        found = StopSequences.firstIndex(decode.apply(Arrays.copyOf(tokens, count)), stop) >= 0;
    }

    @Override
    public boolean stopHere() { return found || inner.stopHere(); }
}
