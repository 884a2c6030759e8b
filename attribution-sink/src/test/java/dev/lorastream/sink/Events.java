package dev.lorastream.sink;

import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.Contributor;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Builds attribution events for tests. */
final class Events {
    static final Instant T0 = Instant.parse("2025-03-01T12:00:00Z");

    private Events() {}

    /** contributors as alternating id, share: "alice", 0.7, "bob", 0.3 */
    static AttributionEvent event(String eventId, String tenant, String adapterId, int prompt, int completion, double computeMs,
                                  Object... contributors) {
        List<Contributor> list = new ArrayList<>();
        for (int i = 0; i < contributors.length; i += 2) {
            list.add(new Contributor((String) contributors[i], ((Number) contributors[i + 1]).doubleValue()));
        }
        return AttributionEvent.newBuilder()
                .setEventId(eventId)
                .setRequestId("req-" + eventId)
                .setTenant(tenant)
                .setAdapterId(adapterId)
                .setAdapterVersion(adapterId == null ? null : "v1")
                .setBaseModel("demo-llama")
                .setPromptTokens(prompt)
                .setCompletionTokens(completion)
                .setComputeMs(computeMs)
                .setWorkerId("worker-1")
                .setExecutionProvider("CPU")
                .setServedAtMs(T0.plusSeconds(eventId.hashCode() & 0xff))
                .setContributors(list)
                .build();
    }

    static AttributionEvent simple(String eventId) {
        return event(eventId, "tenant-a", "dermatology", 10, 5, 2.5, "alice", 0.7, "bob", 0.3);
    }

    /** Events at partition 0, offsets from {@code firstOffset} on. */
    static List<SourcedEvent> sourced(long firstOffset, AttributionEvent... events) {
        List<SourcedEvent> out = new ArrayList<>();
        for (int i = 0; i < events.length; i++) out.add(new SourcedEvent(events[i], 0, firstOffset + i));
        return out;
    }
}
