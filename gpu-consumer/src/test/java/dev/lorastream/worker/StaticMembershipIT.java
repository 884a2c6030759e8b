package dev.lorastream.worker;

import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.schemas.ops.GroupMembership;
import dev.lorastream.worker.internal.AssignmentTracker;
import dev.lorastream.worker.internal.KafkaWorkerClients;
import dev.lorastream.worker.testing.GroupMemberMain;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Static membership and fast failover of the workers' consumer group on the real broker: two workers' request
 * consumers, built by the worker's own client factory with its rebalance listener, one of them in a process of its
 * own that is killed ({@code kill -9}, a crash) or stopped (SIGTERM). Measured seconds are printed; the bounds
 * leave room for a loaded machine.
 */
class StaticMembershipIT {
    private static final int PARTITIONS = 6;
    private static KafkaPlatform platform;
    private static Admin admin;
    private final List<Process> processes = new ArrayList<>();
    private final List<Member> members = new ArrayList<>();
    private String group;
    private String topic;
    private Set<TopicPartition> all;

    @BeforeAll
    static void cluster() {
        platform = TestPlatform.shared();
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers()));
    }

    @AfterAll
    static void closeAdmin() {
        if (admin != null) admin.close();
    }

    @AfterEach
    void stop() {
        processes.forEach(Process::destroyForcibly);
        members.forEach(Member::close);
    }

    private void newGroupAndTopic() throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        group = "smit-" + id;
        topic = "membership-" + id;
        admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
        all = IntStream.range(0, PARTITIONS).mapToObj(p -> new TopicPartition(topic, p)).collect(Collectors.toSet());
    }

    @Test
    void aCrashedWorkersPartitionsAreServedElsewhereAndHandedBackCooperativelyWhenItReturns() throws Exception {
        newGroupAndTopic();
        Child a = child("worker-a");
        a.go();
        Member b = member("worker-b");
        awaitSplit(b);
        Child restarted = child("worker-a"); // its JVM started ahead, joins when told

        long killed = System.nanoTime();
        a.kill();
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50)).until(() -> b.held().equals(all));
        double failover = seconds(killed);
        System.out.printf("static membership: a crashed worker's partitions were all served by the other %.1f s after kill -9 "
                + "(session timeout %d ms)%n", failover, GroupMembership.DEFAULT_SESSION_TIMEOUT.toMillis());

        long joined = restarted.go();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
            Set<TopicPartition> back = held("worker-a");
            return back.size() == 3 && b.held().size() == 3 && union(back, b.held()).equals(all);
        });
        System.out.printf("static membership: the restarted worker (joined after its session had timed out) held 3 partitions "
                + "%.1f s after it joined%n", seconds(joined));
        Set<TopicPartition> revoked = b.revoked.stream().flatMap(Collection::stream).collect(Collectors.toSet());
        assertThat(revoked).as("cooperative: only the partitions that moved were taken from the other worker, it kept serving the rest")
                .isEqualTo(held("worker-a"));
    }

    @Test
    void aWorkerRestartedWithinItsSessionGetsItsOwnPartitionsBackWithoutARebalance() throws Exception {
        newGroupAndTopic();
        Child a = child("worker-a");
        a.go();
        Member b = member("worker-b");
        awaitSplit(b);
        Set<TopicPartition> before = held("worker-a");
        Set<TopicPartition> bBefore = b.held();
        int bRebalances = b.assigned.size();
        Child restarted = child("worker-a");

        a.kill();
        long joined = restarted.go();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> restarted.holding().equals(partitionNumbers(before)));
        System.out.printf("static membership: a worker killed and restarted with the same id held its partitions again %.1f s "
                + "after it joined (no rebalance)%n", seconds(joined));
        assertThat(held("worker-a")).isEqualTo(before);
        assertThat(b.held()).as("the other worker kept its partitions").isEqualTo(bBefore);
        assertThat(b.revoked).as("nothing was taken from the other worker").isEmpty();
        assertThat(b.assigned).as("the other worker saw no rebalance at all").hasSize(bRebalances);
    }

    @Test
    void aWorkerStoppedOnPurposeLeavesItsGroupAndItsPartitionsAreHandedOverAtOnce() throws Exception {
        newGroupAndTopic();
        Child a = child("worker-a");
        a.go();
        Member b = member("worker-b");
        awaitSplit(b);

        long stopped = System.nanoTime();
        a.process.toHandle().destroy(); // SIGTERM (Process.destroy would also close its pipes): it closes its consumer as Worker.close does
        assertThat(a.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        double exited = seconds(stopped);
        Optional<MemberDescription> left = member(group, "worker-a");
        assertThat(exited).as("precondition: checked before its session could have timed out")
                .isLessThan(GroupMembership.DEFAULT_SESSION_TIMEOUT.toMillis() / 1000.0);
        assertThat(left).as("the stopped worker is no longer a member (it left; a static member that stays would be one until its "
                + "session times out)").isEmpty();
        await().atMost(Duration.ofSeconds(5)).alias("the member process says it closed its consumer: " + a.lines)
                .until(() -> a.lines.contains("closed"));
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50)).until(() -> b.held().equals(all));
        System.out.printf("static membership: a stopped worker's partitions were all served by the other %.1f s after SIGTERM "
                + "(its process ended after %.1f s)%n", seconds(stopped), exited);
    }

    /** Waits until each holds half the partitions, for long enough that the rebalance's last callbacks have run. */
    private void awaitSplit(Member b) {
        await().atMost(Duration.ofSeconds(60)).during(Duration.ofMillis(1_500))
                .until(() -> held("worker-a").size() == PARTITIONS / 2 && b.held().size() == PARTITIONS / 2);
        b.revoked.clear();
    }

    private static double seconds(long since) { return (System.nanoTime() - since) / 1e9; }

    private static Set<TopicPartition> union(Set<TopicPartition> a, Set<TopicPartition> b) {
        Set<TopicPartition> u = new java.util.HashSet<>(a);
        u.addAll(b);
        return a.size() + b.size() == u.size() ? u : Set.of(); // overlapping: not a valid split
    }

    private static List<Integer> partitionNumbers(Set<TopicPartition> tps) {
        return tps.stream().map(TopicPartition::partition).sorted().toList();
    }

    /** The partitions the group's coordinator has given the member with this instance id (empty: none, or not a member). */
    private Set<TopicPartition> held(String instanceId) throws Exception {
        return member(group, instanceId).map(m -> Set.copyOf(m.assignment().topicPartitions())).orElse(Set.of());
    }

    private static Optional<MemberDescription> member(String group, String instanceId) throws Exception {
        return admin.describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS).get(group).members().stream()
                .filter(m -> m.groupInstanceId().equals(Optional.of(instanceId))).findFirst();
    }

    private WorkerConfig config(String workerId) {
        return WorkerConfig.from(Map.of("bootstrap.servers", platform.bootstrapServers(), "schema.registry.url", platform.schemaRegistryUrl(),
                "group.id", group, "worker.id", workerId, "engine", "sim"));
    }

    /** A worker's request consumer in this JVM, polled on a thread of its own, with the worker's rebalance listener. */
    private Member member(String workerId) {
        Member m = new Member(config(workerId), topic);
        members.add(m);
        return m;
    }

    private static final class Member implements AutoCloseable {
        final List<Collection<TopicPartition>> revoked = new CopyOnWriteArrayList<>();
        final List<Collection<TopicPartition>> assigned = new CopyOnWriteArrayList<>();
        private final Consumer<byte[], byte[]> consumer;
        private final AssignmentTracker tracker;
        private final Thread thread;
        private final String topic;
        private volatile boolean running = true;

        Member(WorkerConfig config, String topic) {
            this.topic = topic;
            consumer = new KafkaWorkerClients(config).requestConsumer();
            AssignmentTracker inner = new AssignmentTracker(partitions -> revoked.add(List.copyOf(partitions)));
            tracker = inner; // the worker's listener; the wrapper below also records each assignment
            thread = Thread.ofPlatform().daemon().name("member-" + config.workerId()).start(() -> {
                consumer.subscribe(List.of(topic), new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
                    @Override public void onPartitionsRevoked(Collection<TopicPartition> p) { inner.onPartitionsRevoked(p); }
                    @Override public void onPartitionsAssigned(Collection<TopicPartition> p) {
                        assigned.add(List.copyOf(p));
                        inner.onPartitionsAssigned(p);
                    }
                    @Override public void onPartitionsLost(Collection<TopicPartition> p) { inner.onPartitionsLost(p); }
                });
                try {
                    while (running) consumer.poll(Duration.ofMillis(100));
                } catch (WakeupException e) {
                    // closing
                } finally {
                    consumer.close(GroupMembership.closeOptions(config.leaveGroupOnClose()));
                }
            });
        }

        Set<TopicPartition> held() {
            return tracker.partitions().stream().map(p -> new TopicPartition(topic, p)).collect(Collectors.toSet());
        }

        @Override
        public void close() {
            running = false;
            consumer.wakeup();
            try {
                thread.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** {@link GroupMemberMain} in a process of its own: started at once, joining its group on {@link #go()}. */
    private Child child(String workerId) throws IOException, InterruptedException {
        Path log = Files.createDirectories(Path.of("target")).resolve(group + "-" + workerId + "-" + processes.size() + ".log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
                "-cp", System.getProperty("java.class.path"), GroupMemberMain.class.getName(),
                platform.bootstrapServers(), platform.schemaRegistryUrl(), group, workerId, topic)
                .redirectError(log.toFile()).start();
        processes.add(p);
        Child c = new Child(p);
        assertThat(c.next(Duration.ofSeconds(60))).as("the member process starts (log: %s)", log).isEqualTo("ready");
        return c;
    }

    private static final class Child {
        final Process process;
        final List<String> lines = new CopyOnWriteArrayList<>();
        private final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();
        private final Writer stdin;

        Child(Process process) {
            this.process = process;
            this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = out.readLine()) != null; ) {
                        lines.add(line);
                        queue.add(line);
                    }
                } catch (IOException e) {
                    // the process ended
                }
            });
        }

        String next(Duration timeout) throws InterruptedException { return queue.poll(timeout.toMillis(), TimeUnit.MILLISECONDS); }

        /** Tells it to join; returns the time it started to (System.nanoTime). */
        long go() throws IOException, InterruptedException {
            stdin.write("go\n");
            stdin.flush();
            assertThat(next(Duration.ofSeconds(30))).isEqualTo("polling");
            return System.nanoTime();
        }

        /** The partitions it last said it holds. */
        List<Integer> holding() {
            for (int i = lines.size() - 1; i >= 0; i--) {
                String l = lines.get(i);
                if (l.startsWith("holding [")) {
                    String inner = l.substring("holding [".length(), l.length() - 1).trim();
                    return inner.isEmpty() ? List.of() : java.util.Arrays.stream(inner.split(",\\s*")).map(Integer::valueOf).toList();
                }
            }
            return List.of();
        }

        void kill() throws InterruptedException {
            process.destroyForcibly(); // SIGKILL
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
