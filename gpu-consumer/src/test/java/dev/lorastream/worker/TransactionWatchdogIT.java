package dev.lorastream.worker;

import dev.lorastream.platform.KafkaPlatform;
import dev.lorastream.platform.TestPlatform;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.ResponseStatus;
import dev.lorastream.schemas.ops.TransactionWatchdog;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.worker.testing.PipelineFixture;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The transaction watchdog on the real broker: a frozen producer's open transaction (its own timeout ten minutes)
 * holds back every read_committed reader of its partition until the watchdog, with a short bound, aborts it; a busy
 * producer's short transactions next to it are never touched.
 */
class TransactionWatchdogIT {
    private static final Duration MAX_OPEN = Duration.ofSeconds(3);

    @Test
    void aFrozenProducersTransactionIsAbortedAndItsPartitionsReadersGoOn() throws Exception {
        PipelineFixture fixture = new PipelineFixture();
        KafkaPlatform platform = TestPlatform.shared();
        String prefix = "twd-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        TopicPartition stalled = new TopicPartition(Topics.RESPONSES, 1);
        TopicPartition other = new TopicPartition(Topics.RESPONSES, 2);
        Map<TopicPartition, Long> from = fixture.endOffsets(Topics.RESPONSES);

        AtomicInteger busyCommits = new AtomicInteger();
        AtomicReference<Throwable> busyFailure = new AtomicReference<>();
        try (KafkaProducer<byte[], byte[]> frozen = transactional(platform, prefix + "frozen", Duration.ofMinutes(10));
             KafkaProducer<byte[], byte[]> later = transactional(platform, prefix + "later", Duration.ofSeconds(10));
             KafkaProducer<byte[], byte[]> busy = transactional(platform, prefix + "busy", Duration.ofSeconds(10))) {
            // a worker that froze in the middle of its transaction: begun, a response sent (and acknowledged), never ended
            frozen.initTransactions();
            frozen.beginTransaction();
            frozen.send(response(fixture, stalled, prefix + "open")).get();

            // after it, another producer commits a response on the same partition and one on another
            later.initTransactions();
            later.beginTransaction();
            later.send(response(fixture, stalled, prefix + "after"));
            later.send(response(fixture, other, prefix + "elsewhere"));
            later.commitTransaction();

            await().atMost(Duration.ofSeconds(30)).until(() -> read(fixture, from, prefix).contains(prefix + "elsewhere"));
            assertThat(read(fixture, from, prefix)).as("the last stable offset of %s is held back by the open transaction", stalled)
                    .containsExactly(prefix + "elsewhere");

            // a healthy producer committing short transactions all along, on the stalled partition too
            busy.initTransactions();
            Thread busyLoop = Thread.ofPlatform().daemon().start(() -> {
                try {
                    for (int i = 0; !Thread.currentThread().isInterrupted(); i++) {
                        busy.beginTransaction();
                        busy.send(response(fixture, i % 2 == 0 ? stalled : other, prefix + "busy-" + i));
                        busy.commitTransaction();
                        busyCommits.incrementAndGet();
                        Thread.sleep(50);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Throwable t) {
                    busyFailure.set(t);
                }
            });

            long t0 = System.nanoTime();
            try (TransactionWatchdog watchdog = TransactionWatchdog.create(platform.bootstrapServers(), prefix + "watchdog",
                    Duration.ofMillis(500), MAX_OPEN).start()) {
                await().atMost(Duration.ofSeconds(60)).until(() -> read(fixture, from, prefix).contains(prefix + "after"));
                double seconds = (System.nanoTime() - t0) / 1e9;
                System.out.printf("transaction watchdog: the stalled partition was readable again %.1f s after the watchdog started (bound %d s)%n",
                        seconds, MAX_OPEN.toSeconds());

                busyLoop.interrupt();
                busyLoop.join(10_000);
                assertThat(seconds).as("never before the transaction was open longer than the bound").isGreaterThan(MAX_OPEN.toMillis() / 1000.0);
                assertThat(watchdog.aborted()).as("the frozen producer's transaction, and nothing else").isEqualTo(1);
                assertThat(watchdog.prometheusText()).contains(TransactionWatchdog.METRIC + " 1\n");
                assertThat(busyFailure.get()).as("the busy producer's commits").isNull();
                assertThat(busyCommits.get()).as("the busy producer committed all along").isGreaterThan(10);
            } finally {
                busyLoop.interrupt();
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                Set<String> seen = Set.copyOf(read(fixture, from, prefix));
                assertThat(seen).contains(prefix + "after", prefix + "elsewhere").doesNotContain(prefix + "open");
                assertThat(seen.stream().filter(id -> id.startsWith(prefix + "busy-")).count())
                        .as("every busy transaction committed, none lost").isEqualTo(busyCommits.get());
            });
            try {
                frozen.abortTransaction(); // the frozen producer comes back: its coordinator ends the transaction too
            } catch (RuntimeException e) {
                System.out.println("the frozen producer's own abort: " + e);
            }
        }
    }

    /**
     * The router's Kafka Streams changelog and reply topics are watched by their prefixes: a stalled transaction on a
     * {@code lorastream-router-...-changelog} topic is aborted (a hanging one there kept the router restoring for good),
     * one on another application's topic is left to its coordinator.
     */
    @Test
    void theRoutersChangelogIsWatchedAndAnotherApplicationsTopicIsNot() throws Exception {
        KafkaPlatform platform = TestPlatform.shared();
        String run = UUID.randomUUID().toString().substring(0, 8);
        String changelog = "lorastream-router-" + run + "-request-ids-changelog";
        String foreign = "other-app-" + run;
        try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", platform.bootstrapServers()))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(changelog, 1, (short) 1),
                    new org.apache.kafka.clients.admin.NewTopic(foreign, 1, (short) 1))).all().get();
        }
        try (KafkaProducer<byte[], byte[]> router = transactional(platform, "twd-" + run + "-router", Duration.ofMinutes(10));
             KafkaProducer<byte[], byte[]> other = transactional(platform, "twd-" + run + "-other", Duration.ofMinutes(10));
             TransactionWatchdog watchdog = TransactionWatchdog.create(platform.bootstrapServers(), "twd-" + run, Duration.ofMillis(500), MAX_OPEN)) {
            for (var p : List.of(router, other)) {
                p.initTransactions();
                p.beginTransaction();
            }
            router.send(new ProducerRecord<>(changelog, "k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8))).get();
            other.send(new ProducerRecord<>(foreign, "k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8))).get();
            watchdog.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> watchdog.aborted() >= 1);
            Thread.sleep(MAX_OPEN.toMillis() + 2_000); // time enough to abort the other one too, were it watched
            assertThat(watchdog.aborted()).as("the changelog's transaction, not the other application's").isEqualTo(1);
            try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", platform.bootstrapServers()))) {
                var open = admin.describeProducers(List.of(new TopicPartition(changelog, 0), new TopicPartition(foreign, 0))).all().get();
                assertThat(open.get(new TopicPartition(changelog, 0)).activeProducers()).allMatch(ps -> ps.currentTransactionStartOffset().isEmpty());
                assertThat(open.get(new TopicPartition(foreign, 0)).activeProducers()).anyMatch(ps -> ps.currentTransactionStartOffset().isPresent());
            }
            other.abortTransaction();
        }
    }

    private static List<String> read(PipelineFixture fixture, Map<TopicPartition, Long> from, String prefix) {
        return fixture.readCommitted(Topics.RESPONSES, from, InferenceResponse.class, r -> r.getRequestId().startsWith(prefix)).stream()
                .map(ConsumerRecord::value).map(InferenceResponse::getRequestId).collect(Collectors.toList());
    }

    private static ProducerRecord<byte[], byte[]> response(PipelineFixture fixture, TopicPartition tp, String requestId) {
        InferenceResponse r = InferenceResponse.newBuilder().setRequestId(requestId).setStatus(ResponseStatus.OK)
                .setCompletedAtMs(java.time.Instant.now()).build();
        return new ProducerRecord<>(tp.topic(), tp.partition(), requestId.getBytes(StandardCharsets.UTF_8),
                fixture.serializedFor(Topics.RESPONSES, r));
    }

    private static KafkaProducer<byte[], byte[]> transactional(KafkaPlatform platform, String transactionalId, Duration timeout) {
        Map<String, Object> p = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers(),
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId,
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) timeout.toMillis(),
                ProducerConfig.LINGER_MS_CONFIG, 0);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }
}
