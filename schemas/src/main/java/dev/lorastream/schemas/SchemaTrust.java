package dev.lorastream.schemas;

import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.util.ClassSecurityValidator;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Avro 1.12 refuses to load a generated class that is not declared trusted (SecurityException
 * "not trusted"), both when reading and when a generated builder copies nested defaults. This
 * declares the record, enum and fixed classes of the pipeline's event schemas, and only those,
 * once per JVM. The serdes and {@code Topics} call it; code that builds events before touching
 * either calls it first.
 */
public final class SchemaTrust {
    private static final List<Schema> EVENTS = List.of(
            InferenceRequest.getClassSchema(), InferenceResponse.getClassSchema(), AttributionEvent.getClassSchema(),
            DeadLetter.getClassSchema(), WorkerStatus.getClassSchema(), AdapterDescriptor.getClassSchema(), TokenChunk.getClassSchema(),
            CancelRequest.getClassSchema());
    private static boolean done;

    private SchemaTrust() {}

    public static synchronized void ensure() {
        if (done) return;
        Set<String> names = new HashSet<>();
        Set<Schema> seen = new HashSet<>();
        EVENTS.forEach(s -> collect(s, names, seen));
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
