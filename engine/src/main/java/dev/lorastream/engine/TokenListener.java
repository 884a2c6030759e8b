package dev.lorastream.engine;

/**
 * Sees a request's tokens as they are generated (streaming). Called on the engine's stepping
 * thread, in order, once per token that becomes part of the generation (an end-of-sequence token
 * that ends it is not one); keep it short and do not throw: a listener that throws is not called
 * again for that request, and the generation goes on.
 */
@FunctionalInterface
public interface TokenListener {
    TokenListener NONE = (index, tokenId) -> {};

    /** @param index the token's place in the generation, from 0 */
    void onToken(int index, int tokenId);

    /**
     * Asked after each token it was told: whether the generation ends with it (finish reason
     * {@code stop}; a stop sequence completed, say). By default never.
     */
    default boolean stopHere() { return false; }
}
