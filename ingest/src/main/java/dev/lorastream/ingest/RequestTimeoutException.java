package dev.lorastream.ingest;

import java.time.Duration;

/** No response arrived for a request within the time the caller was willing to wait. */
public final class RequestTimeoutException extends IngestException {
    private final String requestId;
    private final Duration timeout;

    public RequestTimeoutException(String requestId, Duration timeout, String replyTopic) {
        super("no response for request " + requestId + " on topic " + replyTopic + " within " + timeout.toMillis() + " ms");
        this.requestId = requestId;
        this.timeout = timeout;
    }

    public String requestId() { return requestId; }
    public Duration timeout() { return timeout; }
}
