package dev.lorastream.worker.internal;

import dev.lorastream.schemas.AttributionEvent;
import dev.lorastream.schemas.Contributor;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.engine.Generation;
import dev.lorastream.worker.testing.FakeEngine;
import dev.lorastream.worker.testing.Requests;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

class AttributionFactoryTest {
    private static final Instant NOW = Instant.parse("2026-02-02T10:00:00Z");
    private final AttributionFactory factory = new AttributionFactory("worker-3", new FakeEngine(), Clock.fixed(NOW, ZoneOffset.UTC));

    @Test
    void anAdapterRequestIsAttributedToTheAdapterVersionAndContributors() {
        Generation g = new Generation("r-1", new int[]{4, 5}, "length", 3, 4, 7.25);

        AttributionEvent e = factory.event(Requests.request("r-1", "dermatology", "itch").build(), 6, g);

        assertThat(e.getEventId()).isEqualTo("r-1");
        assertThat(e.getRequestId()).isEqualTo("r-1");
        assertThat(e.getTenant()).isEqualTo("tenant-1");
        assertThat(e.getAdapterId()).isEqualTo("dermatology");
        assertThat(e.getAdapterVersion()).isEqualTo("dermatology-v1");
        assertThat(e.getBaseModel()).isEqualTo("fake-llama");
        assertThat(e.getPromptTokens()).isEqualTo(6);
        assertThat(e.getCompletionTokens()).isEqualTo(2);
        assertThat(e.getComputeMs()).isEqualTo(7.25);
        assertThat(e.getWorkerId()).isEqualTo("worker-3");
        assertThat(e.getExecutionProvider()).isEqualTo("CPU");
        assertThat(e.getServedAtMs()).isEqualTo(NOW);
        assertThat(e.getContributors()).containsExactly(new Contributor("clinic-a", 0.75), new Contributor("clinic-b", 0.25));
        assertThat(AttributionFactory.keyFor("dermatology")).isEqualTo("dermatology");
    }

    @Test
    void aBackboneRequestHasNoAdapterVersionOrContributorsAndTheBaseKey() {
        AttributionEvent e = factory.event(Requests.request("r-2", null, "hello").build(), 3,
                new Generation("r-2", new int[]{9}, "eos", 1, 1, 2.0));

        assertThat(e.getAdapterId()).isNull();
        assertThat(e.getAdapterVersion()).isNull();
        assertThat(e.getContributors()).isEmpty();
        assertThat(AttributionFactory.keyFor(null)).isEqualTo(Topics.BASE_MODEL_KEY);
    }
}
