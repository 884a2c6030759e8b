package dev.lorastream.launcher;

/** Where Kafka and the schema registry are. */
record Connection(String bootstrapServers, String schemaRegistryUrl) {}
