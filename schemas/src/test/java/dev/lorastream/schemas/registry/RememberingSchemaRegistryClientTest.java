package dev.lorastream.schemas.registry;

import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.topic.Topics;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RememberingSchemaRegistryClientTest {
    private static final String SUBJECT = "inference.requests-value";

    @TempDir Path dir;

    private final SwitchableRegistry registry = new SwitchableRegistry();

    @Test
    void aClientStartedWhileTheRegistryIsDownReadsAndWritesWhatAnEarlierOneWasAnswered() {
        RememberingSchemaRegistryClient before = new RememberingSchemaRegistryClient(registry, dir);
        int id = before.register(SUBJECT, InferenceRequest.getClassSchema());
        int other = registry.register("worker.status-value", WorkerStatus.getClassSchema());
        before.schemaById(other);

        registry.up = false;
        RememberingSchemaRegistryClient restarted = new RememberingSchemaRegistryClient(registry, dir);

        assertThat(restarted.register(SUBJECT, InferenceRequest.getClassSchema())).isEqualTo(id);
        assertThat(restarted.schemaById(id)).isEqualTo(InferenceRequest.getClassSchema());
        assertThat(restarted.schemaById(other)).isEqualTo(WorkerStatus.getClassSchema());
        assertThat(restarted.rememberedId(SUBJECT, InferenceRequest.getClassSchema())).hasValue(id);
    }

    @Test
    void whatWasNeverAnsweredStillFailsWhileTheRegistryIsDown() {
        int unseen = registry.register("worker.status-value", WorkerStatus.getClassSchema());
        registry.up = false;
        RememberingSchemaRegistryClient client = new RememberingSchemaRegistryClient(registry, dir);

        assertThatThrownBy(() -> client.schemaById(unseen)).isInstanceOf(SchemaRegistryException.class).hasMessageContaining("unreachable");
        assertThatThrownBy(() -> client.register(SUBJECT, InferenceRequest.getClassSchema())).isInstanceOf(SchemaRegistryException.class);
        assertThat(client.rememberedId(SUBJECT, InferenceRequest.getClassSchema())).isEmpty();
    }

    @Test
    void theRegistrysRefusalsAreNotMaskedByWhatIsRemembered() {
        RememberingSchemaRegistryClient client = new RememberingSchemaRegistryClient(registry, dir);
        client.register(SUBJECT, InferenceRequest.getClassSchema());
        Schema incompatible = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"InferenceRequest\",\"namespace\":\"dev.lorastream.schemas\","
                + "\"fields\":[{\"name\":\"must\",\"type\":\"string\"}]}");

        assertThatThrownBy(() -> client.register(SUBJECT, incompatible)).isInstanceOf(SchemaRegistryException.class)
                .satisfies(e -> assertThat(((SchemaRegistryException) e).isRetriable()).isFalse());
        assertThatThrownBy(() -> client.schemaById(999)).isInstanceOf(SchemaRegistryException.class);
    }

    @Test
    void declaringSubjectsGoesOnAtOnceWhenTheRegistryIsDownAndEverySubjectIsRemembered() throws Exception {
        Topics.declareSubjects(new RememberingSchemaRegistryClient(registry, dir));
        registry.up = false;

        long start = System.nanoTime();
        Topics.declareSubjects(new RememberingSchemaRegistryClient(registry, dir), Duration.ofMinutes(10));

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void aRegistryRebuiltUnderTheSameUrlMakesEverythingRememberedOfItForgotten() {
        RememberingSchemaRegistryClient before = new RememberingSchemaRegistryClient(registry, dir);
        int statusId = before.register("worker.status-value", WorkerStatus.getClassSchema());
        registry.registry = new InMemorySchemaRegistryClient(); // storage deleted, the registry started afresh: ids given anew
        RememberingSchemaRegistryClient after = new RememberingSchemaRegistryClient(registry, dir);
        int requestId = after.register(SUBJECT, InferenceRequest.getClassSchema());
        assertThat(requestId).isEqualTo(statusId); // the same id now means another schema
        after.schemaById(requestId);

        registry.up = false;
        RememberingSchemaRegistryClient restarted = new RememberingSchemaRegistryClient(registry, dir);

        assertThat(restarted.schemaById(requestId)).isEqualTo(InferenceRequest.getClassSchema());
        assertThat(restarted.rememberedId("worker.status-value", WorkerStatus.getClassSchema())).isEmpty();
    }

    @Test
    void registryUrlsBecomeOneFileName() {
        assertThat(RememberingSchemaRegistryClient.fileName("http://127.0.0.1:8081/apis/ccompat/v7")).isEqualTo("127.0.0.1_8081_apis_ccompat_v7");
    }

    /** The in-memory registry, unreachable (status 0, as over HTTP) while {@code up} is false. */
    private static final class SwitchableRegistry implements SchemaRegistryClient {
        volatile InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        volatile boolean up = true;

        private void reachable() {
            if (!up) throw new SchemaRegistryException("schema registry test unreachable", 0, 0, null);
        }

        @Override public int register(String subject, Schema schema) { reachable(); return registry.register(subject, schema); }
        @Override public Schema schemaById(int id) { reachable(); return registry.schemaById(id); }
        @Override public void setCompatibility(String subject, Compatibility level) { reachable(); registry.setCompatibility(subject, level); }
        @Override public Compatibility compatibility(String subject) { reachable(); return registry.compatibility(subject); }
        @Override public boolean isCompatible(String subject, Schema schema) { reachable(); return registry.isCompatible(subject, schema); }
        @Override public String describe() { return "test"; }
    }
}
