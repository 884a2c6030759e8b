package dev.lorastream.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.Contributor;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.engine.InferenceEngine;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Publishes one AdapterDescriptor per adapter the engine serves to the compacted adapters.catalog topic. */
final class AdapterCatalog {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AdapterCatalog() {}

    static List<AdapterDescriptor> describe(InferenceEngine engine, Path adapterDir) {
        List<AdapterDescriptor> out = new ArrayList<>();
        for (String id : engine.adapterIds().stream().sorted().toList()) {
            Path dir = adapterDir.resolve(id);
            JsonNode config = readJson(dir.resolve("adapter_config.json"));
            JsonNode sidecar = Files.exists(dir.resolve("lorastream.json")) ? readJson(dir.resolve("lorastream.json")) : JSON.createObjectNode();
            List<String> targets = new ArrayList<>();
            config.path("target_modules").forEach(t -> targets.add(t.asText()));
            List<Contributor> contributors = engine.contributors(id).stream()
                    .map(c -> new Contributor(c.contributorId(), c.share())).toList();
            out.add(AdapterDescriptor.newBuilder()
                    .setAdapterId(id)
                    .setVersion(engine.adapterVersion(id))
                    .setBaseModel(engine.model().baseModel())
                    .setRank(config.path("r").asInt())
                    .setTargetModules(targets)
                    .setSizeBytes(sizeOf(dir))
                    .setLocation(dir.toUri().toString())
                    .setContributors(contributors)
                    .setDescription(sidecar.hasNonNull("description") ? sidecar.get("description").asText() : null)
                    .setUpdatedAtMs(Instant.now())
                    .build());
        }
        return out;
    }

    static void publish(Connection c, SchemaRegistryClient registry, List<AdapterDescriptor> descriptors) {
        Topics topics = new Topics(registry);
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, c.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        try (var producer = new KafkaProducer<>(props, topics.adapterCatalog.keySerde().serializer(), topics.adapterCatalog.valueSerde().serializer())) {
            for (AdapterDescriptor d : descriptors) {
                producer.send(new ProducerRecord<>(Topics.ADAPTER_CATALOG, d.getAdapterId(), d));
            }
            producer.flush();
        }
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static long sizeOf(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }
}
