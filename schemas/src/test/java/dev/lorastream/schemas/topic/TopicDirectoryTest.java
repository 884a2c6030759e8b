package dev.lorastream.schemas.topic;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class TopicDirectoryTest {
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-29T00:00:00Z"));
    private final Clock clock = new Clock() {
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now.get(); }
    };
    private final List<String> asked = new ArrayList<>();
    private Set<String> onCluster = Set.of("replies.a");

    private TopicDirectory directory() {
        return new TopicDirectory(topic -> {
            asked.add(topic);
            return onCluster.contains(topic);
        }, clock, () -> { });
    }

    @Test
    void answersAreRememberedFoundOnesLongerThanMissingOnes() {
        TopicDirectory topics = directory();

        assertThat(topics.exists("replies.a")).isTrue();
        assertThat(topics.exists("replies.b")).isFalse();
        assertThat(topics.exists("replies.a")).isTrue();
        assertThat(topics.exists("replies.b")).isFalse();
        assertThat(asked).containsExactly("replies.a", "replies.b");

        onCluster = Set.of("replies.a", "replies.b"); // created meanwhile
        now.set(now.get().plus(TopicDirectory.MISSING_FOR));
        assertThat(topics.exists("replies.b")).isTrue();
        assertThat(topics.exists("replies.a")).isTrue();
        assertThat(asked).containsExactly("replies.a", "replies.b", "replies.b");
    }

    @Test
    void whenTheClusterCannotBeAskedTheTopicIsTakenToExistAndAskedAgainNextTime() {
        TopicDirectory topics = new TopicDirectory(topic -> {
            asked.add(topic);
            throw new IllegalStateException("no answer");
        }, clock, () -> { });

        assertThat(topics.exists("replies.c")).isTrue();
        assertThat(topics.exists("replies.c")).isTrue();
        assertThat(asked).containsExactly("replies.c", "replies.c");
    }

    @Test
    void aDescribingDirectoryKnowsPartitionCountsAndRemembersThemWithTheAnswer() {
        TopicDirectory topics = TopicDirectory.describing(topic -> {
            asked.add(topic);
            return topic.equals("inference.requests") ? 4 : 0;
        }, clock, () -> { });

        assertThat(topics.partitions("inference.requests")).hasValue(4);
        assertThat(topics.exists("inference.requests")).isTrue();
        assertThat(topics.partitions("replies.x")).isEmpty();
        assertThat(topics.exists("replies.x")).isFalse();
        assertThat(asked).containsExactly("inference.requests", "replies.x");
    }

    @Test
    void aDirectoryOfExistenceOnlyKnowsNoPartitionCounts() {
        assertThat(directory().partitions("replies.a")).isEmpty();
        assertThat(directory().exists("replies.a")).isTrue();
        assertThat(TopicDirectory.TRUSTING.partitions("anything")).isEmpty();
    }
}
