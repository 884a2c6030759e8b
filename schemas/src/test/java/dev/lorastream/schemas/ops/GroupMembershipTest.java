package dev.lorastream.schemas.ops;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class GroupMembershipTest {

    @Test
    void aPlainConsumerIsStaticCooperativeAndHeartbeatsFourTimesASession() {
        var p = GroupMembership.consumer("gpu-0", Duration.ofMillis(7_000));
        assertThat(p).containsEntry(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "gpu-0")
                .containsEntry(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 7_000)
                .containsEntry(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_750)
                .containsEntry(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        assertThat(GroupMembership.consumer(null, Duration.ofMillis(7_000))).doesNotContainKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        assertThat(GroupMembership.streams("r", Duration.ofMillis(8_000)))
                .doesNotContainKey(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG)
                .containsEntry(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "r");
    }

    @Test
    void theInstanceIdIsGivenOrDynamicOrDerivedFromHostAndLocalState(@TempDir Path dir) {
        assertThat(GroupMembership.claim("router-a", dir.resolve("x.lock")).instanceId()).isEqualTo("router-a");
        assertThat(GroupMembership.claim("none", dir.resolve("x.lock")).instanceId()).as("dynamic").isNull();
        String a;
        try (var claim = GroupMembership.claim(null, dir.resolve("a").resolve("router.instance.lock"))) {
            a = claim.instanceId();
            assertThat(a).isNotNull().matches("[a-zA-Z0-9._-]+-[0-9a-f]{8}");
            try (var other = GroupMembership.claim(" ", dir.resolve("b").resolve("router.instance.lock"))) {
                assertThat(other.instanceId()).as("another directory, another id").isNotNull().isNotEqualTo(a);
            }
            try (var same = GroupMembership.claim(null, dir.resolve("a").resolve("router.instance.lock"))) {
                assertThat(same.instanceId()).as("a second instance sharing the directory stays dynamic").isNull();
            }
        }
        try (var again = GroupMembership.claim(null, dir.resolve("a").resolve("router.instance.lock"))) {
            assertThat(again.instanceId()).as("after a restart: the same id").isEqualTo(a);
        }
    }

    @Test
    void idsAreMadeLegalGroupInstanceIds() {
        assertThat(GroupMembership.legal("host:4711/a b")).isEqualTo("host_4711_a_b");
        assertThat(GroupMembership.legal("x".repeat(300))).hasSize(200);
    }

    @Test
    void closingLeavesTheGroupOrStays() {
        assertThat(GroupMembership.closeOptions(true).groupMembershipOperation()).isEqualTo(CloseOptions.GroupMembershipOperation.LEAVE_GROUP);
        assertThat(GroupMembership.closeOptions(false).groupMembershipOperation()).isEqualTo(CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP);
    }
}
