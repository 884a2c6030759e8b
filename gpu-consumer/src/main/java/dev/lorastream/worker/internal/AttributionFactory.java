package dev.lorastream.worker.internal;

import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.Contributor;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.InferenceEngine;

import java.time.Clock;
import java.util.List;

/**
 * Builds the {@link AttributionEvent} of a served request: event id = request id (so a replay is
 * recognisable), the adapter's version and contributors as the engine knows them, compute time.
 */
public final class AttributionFactory {
    private final String workerId;
    private final InferenceEngine engine;
    private final Clock clock;

    public AttributionFactory(String workerId, InferenceEngine engine, Clock clock) {
        this.workerId = workerId;
        this.engine = engine;
        this.clock = clock;
    }

    /** Key on attribution.events: the adapter id, or {@link Topics#BASE_MODEL_KEY} for the backbone. */
    public static String keyFor(String adapterId) {
        return adapterId == null ? Topics.BASE_MODEL_KEY : adapterId;
    }

    public AttributionEvent event(InferenceRequest request, int promptTokens, Generation generation) {
        String adapter = request.getAdapterId();
        List<Contributor> contributors = adapter == null ? List.of()
                : engine.contributors(adapter).stream().map(c -> new Contributor(c.contributorId(), c.share())).toList();
        return AttributionEvent.newBuilder()
                .setEventId(request.getRequestId())
                .setRequestId(request.getRequestId())
                .setTenant(request.getTenant())
                .setAdapterId(adapter)
                .setAdapterVersion(adapter == null ? null : engine.adapterVersion(adapter))
                .setBaseModel(engine.model().baseModel())
                .setPromptTokens(promptTokens)
                .setCompletionTokens(generation.tokenIds().length)
                .setComputeMs(generation.computeMs())
                .setWorkerId(workerId)
                .setExecutionProvider(engine.model().executionProvider())
                .setServedAtMs(clock.instant())
                .setContributors(contributors)
                .build();
    }
}
