package dev.lorastream.bench.fleet;

import dev.lorastream.bench.ZipfSampler;
import dev.lorastream.ingest.Requests;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.InferenceResponse;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroDeserializer;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Open-loop traffic: requests at Poisson arrival times of a given rate, whatever the answers do,
 * each for an adapter drawn from Zipf popularity; the rank-to-adapter mapping can be reshuffled (a
 * hot-spot shift). A collector reads inference.responses and attribution.events (read_committed),
 * pairs every answer with its request and counts answers and attribution events per request, so a
 * duplicate or a missing one shows.
 */
final class OpenLoop implements AutoCloseable {
    record Sent(String id, String adapter, long sentNanos, int phase, int epoch) {}

    record Done(Sent sent, long doneNanos, String worker, long decodeMs, boolean ok) {
        double latencyMs() { return (doneNanos - sent.sentNanos()) / 1e6; }
    }

    private final KafkaProducer<String, byte[]> producer;
    private final AvroSerializer<InferenceRequest> values;
    private final KafkaConsumer<String, byte[]> consumer;
    private final AvroDeserializer<InferenceResponse> answers;
    private final AvroDeserializer<dev.lorastream.schemas.AttributionEvent> attributions;
    private final Map<String, AtomicInteger> attributionsPerId = new ConcurrentHashMap<>();
    private final List<String> adapters;
    private final ZipfSampler zipf;
    private final Random random;
    private final int promptLen, newTokens;
    private final String prefix;
    private final Map<String, Sent> sent = new ConcurrentHashMap<>();
    private final Map<String, Done> done = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> answersPerId = new ConcurrentHashMap<>();
    private final Thread collector;
    private volatile boolean closed;
    private int[] mapping;
    private int epoch, count;

    OpenLoop(String bootstrap, SchemaRegistryClient registry, List<String> adapters, double exponent, long seed, int promptLen, int newTokens,
             String prefix) {
        this.adapters = List.copyOf(adapters);
        this.zipf = new ZipfSampler(adapters.size(), exponent, seed);
        this.random = new Random(seed + 1);
        this.promptLen = promptLen;
        this.newTokens = newTokens;
        this.prefix = prefix;
        this.mapping = new int[adapters.size()];
        for (int i = 0; i < mapping.length; i++) mapping[i] = i;
        this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 2), new StringSerializer(), new ByteArraySerializer());
        this.values = new AvroSerializer<>(registry, false);
        this.answers = new AvroDeserializer<>(registry, InferenceResponse.class);
        this.attributions = new AvroDeserializer<>(registry, dev.lorastream.schemas.AttributionEvent.class);
        this.consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = new ArrayList<>();
        for (String topic : List.of(Topics.RESPONSES, Topics.ATTRIBUTION)) {
            consumer.partitionsFor(topic).forEach(p -> parts.add(new TopicPartition(topic, p.partition())));
        }
        consumer.assign(parts);
        consumer.seekToEnd(parts);
        parts.forEach(consumer::position); // pin the start before any request is sent
        this.collector = Thread.ofPlatform().daemon().name("fleet-collector").start(this::collect);
    }

    private void collect() {
        while (!closed) {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                long now = System.nanoTime();
                if (r.topic().equals(Topics.ATTRIBUTION)) {
                    try {
                        String id = attributions.deserialize(r.topic(), r.value()).getRequestId();
                        if (sent.containsKey(id)) attributionsPerId.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                    } catch (RuntimeException e) {
                        // not an event of ours
                    }
                    continue;
                }
                InferenceResponse a;
                try {
                    a = answers.deserialize(r.topic(), r.value());
                } catch (RuntimeException e) {
                    continue;
                }
                Sent s = sent.get(a.getRequestId());
                if (s == null) continue; // not ours
                answersPerId.computeIfAbsent(a.getRequestId(), k -> new AtomicInteger()).incrementAndGet();
                long decode = a.getTimings() == null ? 0 : a.getTimings().getDecodeMs();
                done.putIfAbsent(a.getRequestId(), new Done(s, now, a.getWorkerId(), decode, a.getStatus() == dev.lorastream.schemas.ResponseStatus.OK));
            }
        }
        consumer.close(Duration.ofSeconds(2));
    }

    /** Rank k becomes a different adapter for every k (a new random assignment): yesterday's hot adapters cool. */
    void shift() {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < mapping.length; i++) order.add(i);
        Collections.shuffle(order, random);
        for (int i = 0; i < mapping.length; i++) mapping[i] = order.get(i);
        epoch++;
    }

    /** The adapter rank k maps to now. */
    String adapterAt(int rank) { return adapters.get(mapping[rank]); }

    /** Requests at {@code rate} per second for {@code length} (open loop); {@code shiftAfter}: a hot-spot shift that far in, or null. */
    void phase(int index, double rate, Duration length, Duration shiftAfter) {
        long start = System.nanoTime(), end = start + length.toNanos();
        long shiftAt = shiftAfter == null ? Long.MAX_VALUE : start + shiftAfter.toNanos();
        long next = start;
        while (true) {
            next += (long) (-Math.log(1 - random.nextDouble()) / rate * 1e9);
            if (next >= end) break;
            long wait = next - System.nanoTime();
            if (wait > 0) LockSupport.parkNanos(wait);
            if (System.nanoTime() >= shiftAt) {
                shift();
                shiftAt = Long.MAX_VALUE;
            }
            send(index);
        }
        long wait = end - System.nanoTime();
        if (wait > 0) LockSupport.parkNanos(wait);
        producer.flush();
    }

    private void send(int phase) {
        String adapter = adapterAt(zipf.next());
        List<Integer> prompt = new ArrayList<>(promptLen);
        prompt.add(1);
        for (int i = 1; i < promptLen; i++) prompt.add(3 + random.nextInt(100_000));
        InferenceRequest r = Requests.tokens("tenant-" + (count % 4), adapter, prompt, newTokens);
        r.setRequestId(prefix + "-" + count++);
        Sent s = new Sent(r.getRequestId(), adapter, System.nanoTime(), phase, epoch);
        sent.put(s.id(), s);
        producer.send(new ProducerRecord<>(Topics.REQUESTS, r.getRequestId(), values.serialize(Topics.REQUESTS, r)));
    }

    /** Waits until every request sent is answered, or {@code timeout}; returns whether all were. */
    boolean awaitAll(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while ((done.size() < sent.size() || attributionsPerId.size() < sent.size()) && System.nanoTime() < deadline) Thread.sleep(100);
        Thread.sleep(1_000); // a duplicate would arrive by now
        return done.size() == sent.size();
    }

    int sentCount() { return sent.size(); }

    List<Done> done() { return List.copyOf(done.values()); }

    List<Sent> unanswered() { return sent.values().stream().filter(s -> !done.containsKey(s.id())).toList(); }

    /** Requests answered more than once. */
    long duplicates() { return answersPerId.values().stream().filter(n -> n.get() > 1).count(); }

    /** Requests sent whose attribution event is missing, and those attributed more than once. */
    long attributionsMissing() { return sent.keySet().stream().filter(id -> !attributionsPerId.containsKey(id)).count(); }

    long attributionsRepeated() { return attributionsPerId.values().stream().filter(n -> n.get() > 1).count(); }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        collector.join(5_000);
        producer.close(Duration.ofSeconds(5));
    }
}
