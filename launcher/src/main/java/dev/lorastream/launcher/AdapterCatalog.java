package dev.lorastream.launcher;

import dev.lorastream.schemas.config.KafkaClientSettings;
import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.adapters.AdapterConfig;
import dev.lorastream.engine.adapters.AdapterMetadata;
import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.Contributor;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;

/** Entries of the compacted adapters.catalog topic (key: adapter id; a tombstone removes one): made, published and read. */
final class AdapterCatalog {
    private AdapterCatalog() {}

    /** One entry per adapter the engine serves. */
    static List<AdapterDescriptor> describe(InferenceEngine engine, Path adapterDir) {
        List<AdapterDescriptor> out = new ArrayList<>();
        for (String id : engine.adapterIds().stream().sorted().toList()) out.add(describe(id, adapterDir.resolve(id), engine.model().baseModel()));
        return out;
    }

    /** The entry of the adapter in {@code dir}: its version as the engine names it (the declared one, else the files' hash). */
    static AdapterDescriptor describe(String id, Path dir, String baseModel) {
        AdapterConfig config = AdapterConfig.read(dir);
        AdapterMetadata sidecar = AdapterMetadata.read(dir);
        dev.lorastream.engine.adapters.AdapterDescriptor engineSide = dev.lorastream.engine.adapters.AdapterDescriptor.read(id, dir);
        return AdapterDescriptor.newBuilder()
                .setAdapterId(id)
                .setVersion(engineSide.version())
                .setBaseModel(baseModel)
                .setRank(config.r())
                .setTargetModules(config.targetModules() == null ? List.of() : List.copyOf(config.targetModules()))
                .setSizeBytes(sizeOf(dir))
                .setLocation(dir.toUri().toString())
                .setContributors(engineSide.contributors().stream().map(c -> new Contributor(c.contributorId(), c.share())).toList())
                .setDescription(sidecar.description())
                .setUpdatedAtMs(Instant.now())
                .build();
    }

    static void publish(Connection c, SchemaRegistryClient registry, List<AdapterDescriptor> descriptors) {
        Map<String, AdapterDescriptor> byId = new TreeMap<>();
        descriptors.forEach(d -> byId.put(d.getAdapterId(), d));
        send(c, registry, byId);
    }

    /** Publishes a tombstone: the adapter leaves the catalog. */
    static void tombstone(Connection c, SchemaRegistryClient registry, String id) {
        Map<String, AdapterDescriptor> one = new TreeMap<>();
        one.put(id, null);
        send(c, registry, one);
    }

    private static void send(Connection c, SchemaRegistryClient registry, Map<String, AdapterDescriptor> records) {
        Topics topics = new Topics(registry);
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, c.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        try (var producer = new KafkaProducer<>(KafkaClientSettings.with(props), topics.adapterCatalog.keySerde().serializer(), topics.adapterCatalog.valueSerde().serializer())) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            records.forEach((id, d) -> sent.add(producer.send(new ProducerRecord<>(Topics.ADAPTER_CATALOG, id, d))));
            producer.flush();
            for (var f : sent) f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted publishing to " + Topics.ADAPTER_CATALOG, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot publish to " + Topics.ADAPTER_CATALOG + ": " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** The catalog as it stands: every partition read from its beginning to its end now. */
    static Map<String, AdapterDescriptor> read(Connection c, SchemaRegistryClient registry, Duration timeout) {
        Topics topics = new Topics(registry);
        Map<String, Object> props = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, c.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false, ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Map<String, AdapterDescriptor> out = new TreeMap<>();
        try (var consumer = new KafkaConsumer<>(KafkaClientSettings.with(props), topics.adapterCatalog.keySerde().deserializer(), topics.adapterCatalog.valueSerde().deserializer())) {
            List<PartitionInfo> infos = consumer.partitionsFor(Topics.ADAPTER_CATALOG, timeout);
            if (infos == null || infos.isEmpty()) return out;
            List<TopicPartition> parts = infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("reading " + Topics.ADAPTER_CATALOG + " took longer than " + timeout);
                for (ConsumerRecord<String, AdapterDescriptor> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() == null) out.remove(r.key());
                    else out.put(r.key(), r.value());
                }
            }
        }
        return out;
    }

    private static long sizeOf(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }
}
