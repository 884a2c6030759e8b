package dev.lorastream.schemas;

/**
 * Sizes the pipeline holds to at every entrance, with room below Kafka's defaults (a producer's
 * {@code max.request.size} and a broker's {@code message.max.bytes}, both about 1 MiB) for what the
 * components wrap around a record: a routed request, a response, a dead letter always fit.
 */
public final class Limits {
    /** The largest serialized InferenceRequest the router forwards (and HTTP body the endpoint takes). */
    public static final int MAX_REQUEST_BYTES = 512 * 1024;
    /** How much of a refused record's value a dead letter keeps (with the whole value's size and hash). */
    public static final int MAX_DEAD_LETTER_ORIGINAL_BYTES = 64 * 1024;

    private Limits() {}
}
