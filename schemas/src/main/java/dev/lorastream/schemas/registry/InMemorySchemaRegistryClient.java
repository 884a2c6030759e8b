package dev.lorastream.schemas.registry;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A registry in memory, for broker-free unit tests: same contract as the HTTP client (ids shared
 * by identical schemas, idempotent registration, BACKWARD checks against the latest version,
 * HTTP-409-like refusal of incompatible schemas).
 */
public final class InMemorySchemaRegistryClient implements SchemaRegistryClient {
    private final Map<String, Integer> idsBySchema = new HashMap<>();
    private final Map<Integer, Schema> schemasById = new HashMap<>();
    private final Map<String, List<Schema>> versions = new HashMap<>();
    private final Map<String, Compatibility> levels = new HashMap<>();
    private final Compatibility defaultLevel;

    public InMemorySchemaRegistryClient() { this(Compatibility.BACKWARD); }

    public InMemorySchemaRegistryClient(Compatibility defaultLevel) { this.defaultLevel = defaultLevel; }

    @Override
    public synchronized int register(String subject, Schema schema) {
        List<Schema> subjectVersions = versions.computeIfAbsent(subject, s -> new ArrayList<>());
        boolean known = subjectVersions.contains(schema);
        if (!known && !isCompatible(subject, schema)) {
            throw new SchemaRegistryException("schema being registered is incompatible with an earlier schema for subject "
                    + subject + " (" + compatibility(subject) + ")", 409, 409, null);
        }
        int id = idsBySchema.computeIfAbsent(schema.toString(), s -> idsBySchema.size() + 1);
        schemasById.putIfAbsent(id, schema);
        if (!known) subjectVersions.add(schema);
        return id;
    }

    @Override
    public synchronized Schema schemaById(int id) {
        Schema schema = schemasById.get(id);
        if (schema == null) throw new SchemaRegistryException("schema " + id + " not found", 404, 40403, null);
        return schema;
    }

    @Override
    public synchronized void setCompatibility(String subject, Compatibility level) { levels.put(subject, level); }

    @Override
    public synchronized Compatibility compatibility(String subject) { return levels.getOrDefault(subject, defaultLevel); }

    @Override
    public synchronized boolean isCompatible(String subject, Schema schema) {
        List<Schema> existing = versions.getOrDefault(subject, List.of());
        if (existing.isEmpty()) return true;
        Compatibility level = compatibility(subject);
        List<Schema> against = level.name().endsWith("TRANSITIVE") ? existing : List.of(existing.getLast());
        for (Schema old : against) {
            boolean backward = SchemaCompatibility.checkReaderWriterCompatibility(schema, old).getType()
                    == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE;
            boolean forward = SchemaCompatibility.checkReaderWriterCompatibility(old, schema).getType()
                    == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE;
            boolean ok = switch (level) {
                case NONE -> true;
                case BACKWARD, BACKWARD_TRANSITIVE -> backward;
                case FORWARD, FORWARD_TRANSITIVE -> forward;
                case FULL, FULL_TRANSITIVE -> backward && forward;
            };
            if (!ok) return false;
        }
        return true;
    }

    @Override
    public String describe() { return "in-memory"; }
}
