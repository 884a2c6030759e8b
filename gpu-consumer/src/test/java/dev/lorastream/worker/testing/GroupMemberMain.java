package dev.lorastream.worker.testing;

import dev.lorastream.schemas.ops.GroupMembership;
import dev.lorastream.worker.WorkerConfig;
import dev.lorastream.worker.internal.AssignmentTracker;
import dev.lorastream.worker.internal.KafkaWorkerClients;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.errors.WakeupException;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * A worker's request consumer alone, in a process of its own so that a test can kill it ({@code kill -9}): built
 * by the worker's own client factory ({@link KafkaWorkerClients}) from a {@link WorkerConfig}, with the worker's
 * rebalance listener, subscribed to one topic. Prints {@code ready} once built, joins its group when a line
 * {@code go} comes on stdin (so a test can start the JVM ahead of time), prints {@code polling} and then every
 * assignment change; on SIGTERM it closes as the worker closes its consumer and prints {@code closed}.
 * Arguments: bootstrap servers, registry URL, group id, worker id, topic.
 */
public final class GroupMemberMain {
    private GroupMemberMain() {}

    public static void main(String[] args) throws Exception {
        WorkerConfig config = WorkerConfig.from(Map.of("bootstrap.servers", args[0], "schema.registry.url", args[1],
                "group.id", args[2], "worker.id", args[3], "engine", "sim"));
        Consumer<byte[], byte[]> consumer = new KafkaWorkerClients(config).requestConsumer();
        AssignmentTracker tracker = new AssignmentTracker(() -> { });
        System.out.println("ready");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null && !line.equals("go"); ) {
            // waiting for the test's go
        }
        CountDownLatch closed = new CountDownLatch(1);
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            consumer.wakeup();
            try {
                closed.await();
                main.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        consumer.subscribe(List.of(args[4]), tracker);
        System.out.println("polling");
        System.out.flush();
        List<Integer> last = List.of();
        try {
            while (true) {
                consumer.poll(Duration.ofMillis(100));
                if (!tracker.partitions().equals(last)) {
                    last = tracker.partitions();
                    System.out.println("holding " + last);
                    System.out.flush();
                }
            }
        } catch (WakeupException e) {
            consumer.close(GroupMembership.closeOptions(config.leaveGroupOnClose()));
            System.out.println("closed");
            System.out.flush();
        } finally {
            closed.countDown();
        }
    }
}
