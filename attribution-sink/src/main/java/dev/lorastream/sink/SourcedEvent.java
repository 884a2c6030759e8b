package dev.lorastream.sink;

import dev.lorastream.schemas.AttributionEvent;

import java.util.Objects;

/** An attribution event with the topic partition and offset it was read from (kept with the row for lineage). */
public record SourcedEvent(AttributionEvent event, int partition, long offset) {
    public SourcedEvent {
        Objects.requireNonNull(event, "event");
        if (partition < 0) throw new IllegalArgumentException("partition " + partition + " < 0");
        if (offset < 0) throw new IllegalArgumentException("offset " + offset + " < 0");
    }
}
