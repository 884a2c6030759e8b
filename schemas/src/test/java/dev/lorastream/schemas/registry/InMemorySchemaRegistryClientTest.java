package dev.lorastream.schemas.registry;

import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.topic.Topics;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class InMemorySchemaRegistryClientTest {
    private static final String SUBJECT = "inference.requests-value";

    private final InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();

    @Test
    void registeringTheSameSchemaTwiceGivesTheSameId() {
        int first = registry.register(SUBJECT, InferenceRequest.getClassSchema());
        int second = registry.register(SUBJECT, InferenceRequest.getClassSchema());

        assertThat(second).isEqualTo(first);
        assertThat(registry.schemaById(first)).isEqualTo(InferenceRequest.getClassSchema());
    }

    @Test
    void theSameSchemaUnderTwoSubjectsSharesItsId() {
        int a = registry.register("a-value", WorkerStatus.getClassSchema());
        int b = registry.register("b-value", WorkerStatus.getClassSchema());

        assertThat(b).isEqualTo(a);
    }

    @Test
    void backwardRefusesANewRequiredFieldWithoutDefault() {
        // Given the declared subjects (BACKWARD) with today's schemas
        Topics.declareSubjects(registry);
        Schema withRequired = withField(InferenceRequest.getClassSchema(),
                new Schema.Field("priority", Schema.create(Schema.Type.INT), null, (Object) null));

        // When a schema with a new required field is registered
        SchemaRegistryException refused = catchThrowableOfType(SchemaRegistryException.class,
                () -> registry.register(SUBJECT, withRequired));

        // Then it is refused like the HTTP registry does (409)
        assertThat(registry.compatibility(SUBJECT)).isEqualTo(Compatibility.BACKWARD);
        assertThat(registry.isCompatible(SUBJECT, withRequired)).isFalse();
        assertThat(refused.isIncompatible()).isTrue();
        assertThat(refused.isRetriable()).isFalse();
        assertThat(refused).hasMessageContaining(SUBJECT).hasMessageContaining("BACKWARD");
    }

    @Test
    void backwardAcceptsANewOptionalFieldWithDefault() {
        Topics.declareSubjects(registry);
        int before = registry.register(SUBJECT, InferenceRequest.getClassSchema());
        Schema withOptional = withField(InferenceRequest.getClassSchema(),
                new Schema.Field("priority", Schema.create(Schema.Type.INT), null, 0));

        int id = registry.register(SUBJECT, withOptional);

        assertThat(id).isNotEqualTo(before);
        assertThat(registry.schemaById(id)).isEqualTo(withOptional);
    }

    @Test
    void aRefusedSchemaGetsNoId() {
        // Given a subject with one version
        int first = registry.register(SUBJECT, InferenceRequest.getClassSchema());
        Schema withRequired = withField(InferenceRequest.getClassSchema(),
                new Schema.Field("priority", Schema.create(Schema.Type.INT), null, (Object) null));

        // When an incompatible schema is refused, then a compatible one registered
        catchThrowableOfType(SchemaRegistryException.class, () -> registry.register(SUBJECT, withRequired));
        int next = registry.register("other-value", WorkerStatus.getClassSchema());

        // Then the refused schema took no id
        assertThat(next).isEqualTo(first + 1);
        SchemaRegistryException missing = catchThrowableOfType(SchemaRegistryException.class, () -> registry.schemaById(first + 2));
        assertThat(missing.status()).isEqualTo(404);
    }

    @Test
    void noneAcceptsAnyChange() {
        registry.setCompatibility(SUBJECT, Compatibility.NONE);
        registry.register(SUBJECT, InferenceRequest.getClassSchema());

        int id = registry.register(SUBJECT, WorkerStatus.getClassSchema());

        assertThat(registry.schemaById(id)).isEqualTo(WorkerStatus.getClassSchema());
    }

    @Test
    void anUnknownIdIsNotFound() {
        SchemaRegistryException e = catchThrowableOfType(SchemaRegistryException.class, () -> registry.schemaById(99));

        assertThat(e.status()).isEqualTo(404);
        assertThat(e).hasMessageContaining("99");
    }

    private static Schema withField(Schema schema, Schema.Field extra) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : schema.getFields()) fields.add(new Schema.Field(f, f.schema()));
        fields.add(extra);
        return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
    }
}
