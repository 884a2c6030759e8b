package dev.lorastream.schemas.registry;

import org.apache.avro.Schema;

import java.util.OptionalInt;

/**
 * The part of the Confluent Schema Registry REST API that the pipeline uses. Implemented over
 * HTTP ({@link HttpSchemaRegistryClient}, works against Confluent and Apicurio's ccompat API) and
 * in memory ({@link InMemorySchemaRegistryClient}, a test double with the same rules).
 */
public interface SchemaRegistryClient {

    /** Registers (idempotently) a schema under a subject and returns its global id. */
    int register(String subject, Schema schema);

    /** The schema stored under a global id. */
    Schema schemaById(int id);

    /** Sets the subject's compatibility level (NONE, BACKWARD, FORWARD, FULL, ...). */
    void setCompatibility(String subject, Compatibility level);

    /** The subject's compatibility level, or the registry's default when the subject has none. */
    Compatibility compatibility(String subject);

    /** Whether the schema may be registered under the subject given its compatibility level. */
    boolean isCompatible(String subject, Schema schema);

    /** A short description of where this client points, for logs and errors. */
    String describe();

    /**
     * The id this subject and schema were registered under, as remembered without asking the registry
     * ({@link RememberingSchemaRegistryClient}); empty when nothing is remembered, the default.
     */
    default OptionalInt rememberedId(String subject, Schema schema) { return OptionalInt.empty(); }
}
