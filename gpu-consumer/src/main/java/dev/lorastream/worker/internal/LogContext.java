package dev.lorastream.worker.internal;

import dev.lorastream.schemas.topic.Topics;
import org.slf4j.MDC;

/** Puts {@code request_id} and {@code adapter_id} into the SLF4J MDC for the scope of a try-with-resources block. */
public final class LogContext implements AutoCloseable {
    public static final String REQUEST_ID = "request_id";
    public static final String ADAPTER_ID = "adapter_id";

    private LogContext(String requestId, String adapterId) {
        MDC.put(REQUEST_ID, requestId == null ? "-" : requestId);
        MDC.put(ADAPTER_ID, adapterId == null ? Topics.BASE_MODEL_KEY : adapterId);
    }

    public static LogContext of(String requestId, String adapterId) { return new LogContext(requestId, adapterId); }

    @Override
    public void close() {
        MDC.remove(REQUEST_ID);
        MDC.remove(ADAPTER_ID);
    }
}
