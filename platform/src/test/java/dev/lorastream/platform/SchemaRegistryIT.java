package dev.lorastream.platform;

import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.registry.Compatibility;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryException;
import dev.lorastream.schemas.serde.Subjects;
import dev.lorastream.schemas.topic.Topics;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The project's registry client against the real registry of the shared platform. */
class SchemaRegistryIT {
    private final String url = TestPlatform.shared().schemaRegistryUrl();

    @Test
    void registeringTwiceGivesTheSameId() {
        String subject = Records.uniqueTopic("idempotent") + "-value";
        int first = new HttpSchemaRegistryClient(url).register(subject, WorkerStatus.getClassSchema());

        // a fresh client, so that its cache does not answer
        int second = new HttpSchemaRegistryClient(url).register(subject, WorkerStatus.getClassSchema());

        assertThat(second).isEqualTo(first);
    }

    @Test
    void schemaByIdReturnsTheRegisteredSchema() {
        String subject = Records.uniqueTopic("by-id") + "-value";
        int id = new HttpSchemaRegistryClient(url).register(subject, InferenceRequest.getClassSchema());

        Schema fetched = new HttpSchemaRegistryClient(url).schemaById(id);

        assertThat(fetched).isEqualTo(InferenceRequest.getClassSchema());
    }

    @Test
    void declaredSubjectsRefuseAnIncompatibleChangeAndAcceptACompatibleOne() {
        // Given the pipeline's subjects declared BACKWARD with today's schemas
        HttpSchemaRegistryClient registry = new HttpSchemaRegistryClient(url);
        Topics.declareSubjects(registry);
        String subject = Subjects.of(Topics.REQUESTS, false);
        Schema withRequired = withField(InferenceRequest.getClassSchema(),
                new Schema.Field("priority", Schema.create(Schema.Type.INT), "new, required", (Object) null));
        Schema withOptional = withField(InferenceRequest.getClassSchema(),
                new Schema.Field("priority_hint", Schema.create(Schema.Type.INT), "new, optional", 0));

        // When a new required field without default is registered
        SchemaRegistryException refused = catchThrowableOfType(SchemaRegistryException.class,
                () -> registry.register(subject, withRequired));

        // Then it is refused as incompatible, while a new field with a default is accepted
        assertThat(registry.compatibility(subject)).isEqualTo(Compatibility.BACKWARD);
        assertThat(registry.isCompatible(subject, withRequired)).isFalse();
        assertThat(refused.isIncompatible()).as(refused.getMessage()).isTrue();
        assertThat(registry.isCompatible(subject, withOptional)).isTrue();
        int evolved = registry.register(subject, withOptional);
        assertThat(new HttpSchemaRegistryClient(url).schemaById(evolved)).isEqualTo(withOptional);

        // And today's schema can still be registered after the evolution (producers not yet upgraded)
        assertThat(new HttpSchemaRegistryClient(url).register(subject, InferenceRequest.getClassSchema()))
                .isEqualTo(registry.register(subject, InferenceRequest.getClassSchema()));
    }

    private static Schema withField(Schema schema, Schema.Field extra) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : schema.getFields()) fields.add(new Schema.Field(f, f.schema()));
        fields.add(extra);
        return Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false, fields);
    }
}
