package dev.lorastream.ingest.internal;

import dev.lorastream.schemas.topic.Topics;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.util.ClassSecurityValidator;

import java.util.HashSet;
import java.util.Set;

/**
 * Avro 1.12 refuses to load a generated class that is not declared trusted, and the generated
 * builders load nested record classes (e.g. {@code GenerationParams} in {@code InferenceRequest.newBuilder()})
 * when they copy defaults. This declares the record, enum and fixed classes of the pipeline's event
 * schemas ({@link Topics#VALUE_SCHEMAS}), and only those, once per JVM.
 */
public final class AvroTrust {
    private static boolean done;

    private AvroTrust() {}

    public static synchronized void ensure() {
        if (done) return;
        Set<String> names = new HashSet<>();
        Set<Schema> seen = new HashSet<>();
        Topics.VALUE_SCHEMAS.values().forEach(s -> collect(s, names, seen));
        ClassSecurityValidator.Builder trusted = ClassSecurityValidator.builder();
        names.forEach(trusted::add);
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(), trusted.build()));
        done = true;
    }

    private static void collect(Schema schema, Set<String> names, Set<Schema> seen) {
        if (!seen.add(schema)) return;
        switch (schema.getType()) {
            case RECORD -> {
                names.add(SpecificData.getClassName(schema));
                schema.getFields().forEach(f -> collect(f.schema(), names, seen));
            }
            case ENUM, FIXED -> names.add(SpecificData.getClassName(schema));
            case ARRAY -> collect(schema.getElementType(), names, seen);
            case MAP -> collect(schema.getValueType(), names, seen);
            case UNION -> schema.getTypes().forEach(t -> collect(t, names, seen));
            default -> { }
        }
    }
}
