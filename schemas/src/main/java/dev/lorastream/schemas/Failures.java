package dev.lorastream.schemas;

import dev.lorastream.schemas.registry.SchemaRegistryException;
import org.apache.kafka.common.errors.RetriableException;

/**
 * The one place that sorts failures into retriable (the registry or a broker is unreachable or
 * overloaded: the same record may succeed later, so it must not be dead-lettered or skipped) and
 * permanent (the record itself is at fault, or the component is: dead-letter it). Router, sink and
 * the ingest client's readers ask it. An {@code IOException} alone
 * is not retriable: Avro reports a truncated body as one; the registry client wraps a network
 * failure in a retriable {@link SchemaRegistryException}.
 */
public final class Failures {
    private Failures() {}

    public static boolean isRetriable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SchemaRegistryException e) return e.isRetriable();
            if (t instanceof RetriableException) return true;
        }
        return false;
    }
}
