package dev.lorastream.schemas;

import dev.lorastream.schemas.topic.Topics;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What an adapter id may be, in requests and when an adapter is added: 1 to 128 of
 * {@code [A-Za-z0-9._-]} starting with a letter or digit (the directory store keeps its work in
 * hidden folders; the engine's loader, which has no Kafka-side imports, checks the same pattern), and
 * not the key reserved for the plain backbone. The router and the adapter commands ask this class.
 */
public final class AdapterIds {
    public static final Pattern PATTERN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private AdapterIds() {}

    /** Why this id is not an adapter id, or empty when it is. */
    public static Optional<String> problem(String id) {
        if (id == null) return Optional.of("is missing");
        if (Topics.BASE_MODEL_KEY.equals(id)) return Optional.of("'" + id + "' is reserved for the plain backbone");
        if (!PATTERN.matcher(id).matches()) {
            String shown = id.length() > 40 ? id.substring(0, 40) + "…" : id;
            return Optional.of("'" + shown + "' is not an adapter id (1 to 128 of [A-Za-z0-9._-], starting with a letter or digit)");
        }
        return Optional.empty();
    }
}
