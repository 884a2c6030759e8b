package dev.lorastream.router.placement;

import dev.lorastream.router.HashPlacement;
import dev.lorastream.router.placement.LoadAwarePlacement.Decision;
import dev.lorastream.router.placement.LoadAwarePlacement.Reason;
import dev.lorastream.schemas.WorkerStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class LoadAwarePlacementTest {
    private static final int PARTITIONS = 32;
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final Clock clock = new Clock() {
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return Instant.ofEpochMilli(now.get()); }
    };
    private final FleetTable table = new FleetTable(Duration.ofSeconds(3), clock);
    private final PlacementMetrics metrics = new PlacementMetrics(new SimpleMeterRegistry());
    private final LoadAwarePlacement placement = new LoadAwarePlacement(table, 1.0, metrics);

    /** A RUNNING worker of 8 rows and 16 bank slots holding partitions {2i, 2i+1}. */
    private WorkerStatus.Builder worker(int i) {
        return WorkerStatus.newBuilder().setWorkerId("w" + i).setHost("h").setState("RUNNING")
                .setAssignedPartitions(List.of(2 * i, 2 * i + 1)).setRunningRequests(0).setWaitingRequests(0).setFreeMemoryBytes(1)
                .setResidentAdapters(List.of()).setExecutionProvider("SIM").setBaseModel("m").setHeartbeatAtMs(Instant.ofEpochMilli(now.get()))
                .setMaxRows(8).setBankSlots(16).setBankSlotsUsed(0).setHeartbeatIntervalMs(1000);
    }

    private void fleet(int n) {
        for (int i = 0; i < n; i++) table.update(worker(i).build());
    }

    private Decision place(String adapter) {
        return placement.decide(adapter, PARTITIONS);
    }

    @Test
    void withoutWorkersItHashesAndSaysSo() {
        Decision d = place("cardiology");
        assertThat(d.reason()).isEqualTo(Reason.NO_FLEET);
        assertThat(d.partition()).isEqualTo(new HashPlacement().partition("cardiology", null, PARTITIONS));
        assertThat(metrics.count(Reason.NO_FLEET)).isEqualTo(1);
    }

    @Test
    void anAdapterGoesWhereItIsOnTheDeviceThenWhereItIsInHostMemory() {
        fleet(4);
        table.update(worker(2).setDeviceAdapters(List.of("cardiology")).setBankSlotsUsed(1).build());
        table.update(worker(3).setHostAdapters(List.of("nutrition")).build());
        Decision d = place("cardiology");
        assertThat(d.workerId()).isEqualTo("w2");
        assertThat(d.reason()).isEqualTo(Reason.DEVICE);
        assertThat(d.partition()).isIn(4, 5);
        assertThat(place("nutrition")).extracting(Decision::workerId, Decision::reason).containsExactly("w3", Reason.HOST);
    }

    @Test
    void aBusyHolderOverflowsToOneNewReplicaWhichEveryRequestFindsUntilItReportsTheAdapter() {
        fleet(6);
        table.update(worker(0).setDeviceAdapters(List.of("hot")).setRunningRequests(8).setWaitingRequests(3).build()); // busy
        Decision first = place("hot");
        assertThat(first.reason()).isEqualTo(Reason.REPLICA);
        assertThat(first.workerId()).isNotEqualTo("w0");
        // others' load changes below busy do not move the new copy
        for (int i = 1; i < 6; i++) if (!("w" + i).equals(first.workerId())) table.update(worker(i).setRunningRequests(i).build());
        for (int k = 0; k < 20; k++) assertThat(place("hot").workerId()).isEqualTo(first.workerId());
        // the replica reports it: requests spread to the holder that is less loaded
        int r = Integer.parseInt(first.workerId().substring(1));
        table.update(worker(r).setDeviceAdapters(List.of("hot")).setRunningRequests(2).build());
        assertThat(place("hot")).extracting(Decision::workerId, Decision::reason).containsExactly(first.workerId(), Reason.DEVICE);
        // w0 drains: at equal (low) load both holders tie and the first in the adapter's rendezvous order takes it all
        table.update(worker(0).setDeviceAdapters(List.of("hot")).setRunningRequests(0).build());
        table.update(worker(r).setDeviceAdapters(List.of("hot")).setRunningRequests(0).build());
        Set<String> chosen = new HashSet<>();
        for (int k = 0; k < 20; k++) chosen.add(place("hot").workerId());
        assertThat(chosen).hasSize(1);
    }

    @Test
    void underLoadTheLessLoadedHolderIsChosen() {
        fleet(3);
        table.update(worker(0).setDeviceAdapters(List.of("a")).setRunningRequests(6).build());
        table.update(worker(1).setDeviceAdapters(List.of("a")).setRunningRequests(1).build());
        assertThat(place("a").workerId()).isEqualTo("w1");
        table.update(worker(1).setDeviceAdapters(List.of("a")).setRunningRequests(7).build());
        table.update(worker(0).setDeviceAdapters(List.of("a")).setRunningRequests(2).build());
        assertThat(place("a").workerId()).isEqualTo("w0");
    }

    @Test
    void coldAdaptersSpreadOverTheFleetAndAvoidBusyWorkersAndFullBanks() {
        fleet(16);
        Map<String, Integer> perWorker = new HashMap<>();
        for (int a = 0; a < 1600; a++) perWorker.merge(place("z" + a).workerId(), 1, Integer::sum);
        assertThat(perWorker).hasSize(16);
        assertThat(perWorker.values()).allSatisfy(n -> assertThat(n).isBetween(60, 145));
        table.update(worker(5).setRunningRequests(9).build());
        table.update(worker(6).setBankSlotsUsed(16).build());
        for (int a = 0; a < 400; a++) {
            Decision d = place("z" + a);
            assertThat(d.reason()).isEqualTo(Reason.COLD);
            assertThat(d.workerId()).isNotIn("w5", "w6");
        }
    }

    @Test
    void whenEveryWorkerIsBusyTheLeastUtilisedHolderTakesIt() {
        fleet(3);
        table.update(worker(0).setDeviceAdapters(List.of("a")).setRunningRequests(8).setWaitingRequests(9).build());
        table.update(worker(1).setDeviceAdapters(List.of("a")).setRunningRequests(8).setWaitingRequests(2).build());
        table.update(worker(2).setRunningRequests(8).build());
        assertThat(place("a")).extracting(Decision::workerId, Decision::reason).containsExactly("w1", Reason.ALL_BUSY);
        assertThat(place("b").reason()).isEqualTo(Reason.ALL_BUSY);
    }

    @Test
    void silentStoppingAndPartitionlessWorkersDoNotCountAndAClaimedPartitionGoesToTheNewerHeartbeat() {
        fleet(2);
        table.update(worker(1).setDeviceAdapters(List.of("a")).build());
        assertThat(place("a").workerId()).isEqualTo("w1");
        now.addAndGet(3_100); // w0 and w1 fall silent
        table.update(worker(0).build());
        assertThat(place("a")).extracting(Decision::workerId, Decision::reason).containsExactly("w0", Reason.COLD);
        table.update(worker(2).setAssignedPartitions(List.of()).build());
        table.update(worker(3).setState("STARTING").build());
        assertThat(table.snapshot().workers()).extracting(WorkerView::workerId).containsExactly("w0");
        // w4 took w0's partition 1 in a rebalance; w0's next heartbeat has not said so yet
        table.update(worker(4).setAssignedPartitions(List.of(1)).setHeartbeatAtMs(Instant.ofEpochMilli(now.get() + 5)).build());
        now.addAndGet(10);
        Fleet f = table.snapshot();
        assertThat(f.workers()).extracting(WorkerView::workerId, WorkerView::partitions)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("w0", List.of(0)), org.assertj.core.groups.Tuple.tuple("w4", List.of(1)));
    }

    @Test
    void partitionsBeyondTheTopicAreIgnored() {
        table.update(worker(20).build()); // partitions 40, 41 of a larger topic
        table.update(worker(1).build());
        for (int a = 0; a < 50; a++) assertThat(place("x" + a).workerId()).isEqualTo("w1");
    }

    @Test
    void aFirstVersionHeartbeatCountsItsResidentAdaptersAsOnTheDevice() {
        table.update(WorkerStatus.newBuilder().setWorkerId("old").setHost("h").setState("RUNNING").setAssignedPartitions(List.of(7))
                .setRunningRequests(0).setWaitingRequests(0).setFreeMemoryBytes(1).setResidentAdapters(List.of("derm")).setExecutionProvider("CPU")
                .setBaseModel("m").setHeartbeatAtMs(Instant.ofEpochMilli(now.get())).build());
        fleet(2);
        assertThat(place("derm")).extracting(Decision::workerId, Decision::reason, Decision::partition).containsExactly("old", Reason.DEVICE, 7);
    }

    @Test
    void twoRoutersFedTheSameHeartbeatsChooseAlike() {
        FleetTable other = new FleetTable(Duration.ofSeconds(3), clock);
        LoadAwarePlacement second = new LoadAwarePlacement(other, 1.0, new PlacementMetrics(new SimpleMeterRegistry()));
        List<WorkerStatus> beats = new ArrayList<>();
        java.util.Random r = new java.util.Random(5);
        for (int i = 0; i < 12; i++) {
            List<String> device = new ArrayList<>();
            for (int a = 0; a < 30; a++) if (r.nextInt(4) == 0) device.add("z" + r.nextInt(200));
            beats.add(worker(i).setDeviceAdapters(device.stream().distinct().toList()).setRunningRequests(r.nextInt(10)).setWaitingRequests(r.nextInt(3)).build());
        }
        beats.forEach(table::update);
        java.util.Collections.reverse(beats);
        beats.forEach(other::update); // another order of arrival
        now.addAndGet(FleetTable.REFRESH_MS);
        for (int a = 0; a < 300; a++) assertThat(second.decide("z" + a, PARTITIONS)).isEqualTo(placement.decide("z" + a, PARTITIONS));
    }

    @Test
    void theBackboneIsOnEveryWorkerAndGoesToTheLeastLoaded() {
        fleet(3);
        table.update(worker(0).setRunningRequests(4).build());
        table.update(worker(1).setRunningRequests(1).build());
        table.update(worker(2).setRunningRequests(6).build());
        assertThat(place(dev.lorastream.schemas.topic.Topics.BASE_MODEL_KEY)).extracting(Decision::workerId, Decision::reason)
                .containsExactly("w1", Reason.DEVICE);
    }
}
