package dev.lorastream.platform;

import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The embedded broker with SASL/SCRAM and ACLs (issue 11): the pipeline's principal may do what components do; a
 * caller may write requests and read its own reply topic, and the broker refuses it everything else that the
 * spoofing attempts of the issue did (read a victim's request, write a forged answer or a billing row); a client
 * without credentials, or with a wrong password, gets nothing.
 */
class SecuredBrokerIT {
    @TempDir static Path work;
    static EmbeddedKafkaBroker broker;
    static ClusterSecurity security;

    @BeforeAll
    static void start() {
        security = ClusterSecurity.in(work.resolve("security"));
        broker = new EmbeddedKafkaBroker(work.resolve("kafka"), 0, 2, Map.of(), security).start();
        try (Admin admin = Admin.create(settings(ClusterSecurity.PIPELINE))) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(Topics.REQUESTS, 2, (short) 1),
                    new org.apache.kafka.clients.admin.NewTopic(Topics.RESPONSES, 2, (short) 1),
                    new org.apache.kafka.clients.admin.NewTopic(Topics.ATTRIBUTION, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        security.addCaller(broker.bootstrapServers(), "alice");
        security.addCaller(broker.bootstrapServers(), "mallory");
    }

    @AfterAll
    static void stop() { if (broker != null) broker.stop(); }

    @Test
    void theCallerWritesRequestsAndReadsItsOwnReplyTopic() throws Exception {
        try (var producer = producer(settings("alice"))) {
            producer.send(new ProducerRecord<>(Topics.REQUESTS, "r1", "request")).get(30, TimeUnit.SECONDS);
        }
        try (var pipeline = producer(settings(ClusterSecurity.PIPELINE))) {
            pipeline.send(new ProducerRecord<>(ClusterSecurity.replyTopic("alice"), "r1", "answer")).get(30, TimeUnit.SECONDS);
        }
        try (var consumer = consumer(settings("alice"))) {
            consumer.assign(List.of(new org.apache.kafka.common.TopicPartition(ClusterSecurity.replyTopic("alice"), 0)));
            consumer.seekToBeginning(consumer.assignment());
            int seen = 0;
            long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (seen == 0 && System.nanoTime() < until) {
                for (var record : consumer.poll(Duration.ofMillis(200))) if (record.key().equals("r1")) seen++; // other tests answer there too
            }
            assertThat(seen).isEqualTo(1);
        }
    }

    @Test
    void aCallerCannotWriteAForgedAnswerOrABillingRow() {
        try (var producer = producer(settings("mallory"))) {
            for (String topic : List.of(Topics.RESPONSES, ClusterSecurity.replyTopic("alice"), Topics.ATTRIBUTION)) {
                Throwable refused = catchThrowable(() -> producer.send(new ProducerRecord<>(topic, "r1", "FORGED BY ATTACKER")).get(30, TimeUnit.SECONDS));
                assertThat(refused).as(topic).isInstanceOf(ExecutionException.class).cause().isInstanceOf(TopicAuthorizationException.class);
            }
        }
    }

    @Test
    void aCallerCannotReadAnotherCallersRequestsOrAnswers() {
        for (String topic : List.of(Topics.REQUESTS, Topics.RESPONSES, ClusterSecurity.replyTopic("alice"))) {
            try (var consumer = consumer(settings("mallory"))) {
                consumer.assign(List.of(new org.apache.kafka.common.TopicPartition(topic, 0)));
                Throwable refused = catchThrowable(() -> {
                    for (int i = 0; i < 50; i++) consumer.poll(Duration.ofMillis(200));
                });
                assertThat(refused).as(topic).isInstanceOf(TopicAuthorizationException.class);
            }
        }
    }

    @Test
    void aCallerCannotRunTransactionsAsAWorker() {
        Map<String, Object> p = settings("mallory");
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "lorastream-worker-worker-1");
        try (var producer = producer(p)) {
            assertThat(catchThrowable(producer::initTransactions)).isInstanceOf(TransactionalIdAuthorizationException.class);
        }
    }

    /**
     * Each component may write only what it writes: only the worker answers and bills, the HTTP endpoint (the part
     * open to the network) and the router cannot forge answers or billing rows, and none reads what it has no use for.
     */
    @Test
    void eachComponentWritesOnlyWhatItsRoleWrites() throws Exception {
        Map<String, List<String>> refusedWrites = Map.of(
                ClusterSecurity.HTTP, List.of(Topics.RESPONSES, Topics.ATTRIBUTION, ClusterSecurity.replyTopic("alice")),
                ClusterSecurity.ROUTER, List.of(Topics.ATTRIBUTION, Topics.REQUESTS),
                ClusterSecurity.SINK, List.of(Topics.RESPONSES, Topics.ATTRIBUTION, Topics.REQUESTS));
        refusedWrites.forEach((component, topics) -> {
            try (var producer = producer(settings(component))) {
                for (String topic : topics) {
                    Throwable refused = catchThrowable(() -> producer.send(new ProducerRecord<>(topic, "r1", "FORGED")).get(30, TimeUnit.SECONDS));
                    assertThat(refused).as(component + " writing " + topic).isInstanceOf(ExecutionException.class)
                            .cause().isInstanceOf(TopicAuthorizationException.class);
                }
            }
        });
        try (var producer = producer(settings(ClusterSecurity.HTTP))) {
            producer.send(new ProducerRecord<>(Topics.REQUESTS, "r2", "request")).get(30, TimeUnit.SECONDS);
        }
        // the worker answers and bills in its transaction (its transactional ids start with its group's name)
        Map<String, Object> w = settings(ClusterSecurity.WORKER);
        w.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "lorastream-workers.worker-1");
        try (var worker = producer(w)) {
            worker.initTransactions();
            worker.beginTransaction();
            worker.send(new ProducerRecord<>(Topics.RESPONSES, "r2", "answer"));
            worker.send(new ProducerRecord<>(ClusterSecurity.replyTopic("alice"), "r2", "answer"));
            worker.send(new ProducerRecord<>(Topics.ATTRIBUTION, "r2", "billing row"));
            worker.sendOffsetsToTransaction(Map.of(new org.apache.kafka.common.TopicPartition(Topics.REQUESTS, 0),
                    new org.apache.kafka.clients.consumer.OffsetAndMetadata(1)), new org.apache.kafka.clients.consumer.ConsumerGroupMetadata("lorastream-workers"));
            worker.commitTransaction();
        }
        // ...but not under another component's transactional id
        Map<String, Object> asRouter = settings(ClusterSecurity.WORKER);
        asRouter.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "lorastream-router-1-0");
        try (var producer = producer(asRouter)) {
            assertThat(catchThrowable(producer::initTransactions)).isInstanceOf(TransactionalIdAuthorizationException.class);
        }
        // the HTTP endpoint and the sink cannot read requests of callers or the worker's routed copies
        for (String component : List.of(ClusterSecurity.HTTP, ClusterSecurity.SINK)) {
            try (var consumer = consumer(settings(component))) {
                consumer.assign(List.of(new org.apache.kafka.common.TopicPartition(Topics.REQUESTS, 0)));
                Throwable refused = catchThrowable(() -> {
                    for (int i = 0; i < 50; i++) consumer.poll(Duration.ofMillis(200));
                });
                assertThat(refused).as(component + " reading " + Topics.REQUESTS).isInstanceOf(TopicAuthorizationException.class);
            }
        }
        // the worker's transaction watchdog may look at every pipeline topic's producers and at the groups' offsets
        try (Admin admin = Admin.create(settings(ClusterSecurity.WORKER))) {
            var offsets = new org.apache.kafka.common.TopicPartition("__consumer_offsets", 0);
            var responses = new org.apache.kafka.common.TopicPartition(Topics.RESPONSES, 0);
            admin.describeProducers(List.of(offsets, responses)).all().get(30, TimeUnit.SECONDS);
            assertThat(admin.listTransactions().all().get(30, TimeUnit.SECONDS))
                    .extracting(org.apache.kafka.clients.admin.TransactionListing::transactionalId).contains("lorastream-workers.worker-1");
        }
    }

    @Test
    void aCallerCannotTakeAComponentsName() {
        assertThat(catchThrowable(() -> security.addCaller(broker.bootstrapServers(), ClusterSecurity.WORKER)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("a component");
    }

    @Test
    void aClientWithoutTheRightPasswordGetsNothing() {
        Map<String, Object> wrong = settings("alice");
        wrong.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"guess\";");
        wrong.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        try (var producer = producer(wrong)) {
            Throwable refused = catchThrowable(() -> producer.send(new ProducerRecord<>(Topics.REQUESTS, "r", "v")).get(30, TimeUnit.SECONDS));
            assertThat(refused).satisfiesAnyOf(
                    t -> assertThat(t).isInstanceOf(SaslAuthenticationException.class),
                    t -> assertThat(t).cause().isInstanceOf(SaslAuthenticationException.class));
        }
        Map<String, Object> plaintext = new HashMap<>();
        plaintext.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        plaintext.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000);
        plaintext.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        try (Admin admin = Admin.create(plaintext)) {
            assertThat(catchThrowable(() -> admin.listTopics().names().get(10, TimeUnit.SECONDS))).isNotNull();
        }
    }

    private static Map<String, Object> settings(String principal) {
        Map<String, Object> p = new HashMap<>(security.clientSettings(principal));
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        return p;
    }

    private static KafkaProducer<String, String> producer(Map<String, Object> p) {
        p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        p.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000);
        p.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> consumer(Map<String, Object> p) {
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }
}
