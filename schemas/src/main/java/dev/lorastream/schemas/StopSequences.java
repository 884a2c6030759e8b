package dev.lorastream.schemas;

import java.util.List;
import java.util.Optional;

/**
 * The rule for stop sequences ({@code GenerationParams.stop}, OpenAI's {@code stop}), one home for
 * every component that checks it, and where a text ends before the first of them.
 */
public final class StopSequences {
    /** As OpenAI: at most four. */
    public static final int MAX_COUNT = 4;
    public static final int MAX_CHARS = 64;

    private StopSequences() {}

    /** Why these stop sequences are refused, or empty when they are fine. */
    public static Optional<String> problem(List<? extends CharSequence> stop) {
        if (stop == null) return Optional.empty();
        if (stop.size() > MAX_COUNT) return Optional.of("has " + stop.size() + " sequences; at most " + MAX_COUNT);
        for (int i = 0; i < stop.size(); i++) {
            CharSequence s = stop.get(i);
            if (s == null || s.isEmpty()) return Optional.of("sequence " + i + " is empty");
            if (s.length() > MAX_CHARS) return Optional.of("sequence " + i + " has " + s.length() + " characters; at most " + MAX_CHARS);
        }
        return Optional.empty();
    }

    /** Where the first stop sequence starts in the text, or -1. */
    public static int firstIndex(String text, List<? extends CharSequence> stop) {
        int first = -1;
        for (CharSequence s : stop) {
            int at = text.indexOf(s.toString());
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        return first;
    }

    /** The longest stop sequence's length, 0 without any. */
    public static int longest(List<? extends CharSequence> stop) {
        int n = 0;
        for (CharSequence s : stop) n = Math.max(n, s.length());
        return n;
    }
}
