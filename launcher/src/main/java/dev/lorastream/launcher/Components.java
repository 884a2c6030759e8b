package dev.lorastream.launcher;

import dev.lorastream.ingest.ClientConfig;
import dev.lorastream.ingest.InferenceClient;
import dev.lorastream.ingest.http.HttpConfig;
import dev.lorastream.ingest.http.OpenAiServer;
import dev.lorastream.router.RouterApp;
import dev.lorastream.router.RouterConfig;
import dev.lorastream.schemas.registry.RememberingSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicSetup;
import dev.lorastream.schemas.topic.Topics;
import dev.lorastream.sink.AttributionSink;
import dev.lorastream.sink.SinkConfig;
import dev.lorastream.worker.WorkerConfig;
import dev.lorastream.engine.InferenceEngine;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Builds each component from the connection and its own settings; one place for the wiring. */
final class Components {
    /** Partitions of the topics ./pipeline router|worker|sink|http create on an existing cluster that lacks them. */
    static final int COMPONENT_PARTITIONS = 4;

    private Components() {}

    /**
     * What ./pipeline router|worker|sink|http do before starting against an existing cluster: create
     * the topics it lacks ({@value #COMPONENT_PARTITIONS} partitions, replication 1) and declare the
     * schema subjects, waiting up to {@link #REGISTRY_WAIT} for a registry that is down (a component restarted
     * during an outage comes up when the registry is back instead of exiting); returns the registry's client.
     */
    static SchemaRegistryClient provision(Connection c) {
        TopicSetup.ensure(c.bootstrapServers(), COMPONENT_PARTITIONS, (short) 1);
        SchemaRegistryClient registry = RememberingSchemaRegistryClient.connect(c.schemaRegistryUrl());
        try {
            Topics.declareSubjects(registry, REGISTRY_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for the schema registry at " + c.schemaRegistryUrl(), e);
        }
        return registry;
    }

    /** How long a component starting against an existing cluster waits for an unreachable registry. */
    static final java.time.Duration REGISTRY_WAIT = java.time.Duration.ofMinutes(10);

    /** The router with every setting at its default but the state directory. */
    static RouterApp router(Connection c, Path stateDir) {
        Map<String, Object> props = new HashMap<>();
        props.put(RouterConfig.BOOTSTRAP_SERVERS, c.bootstrapServers());
        props.put(RouterConfig.SCHEMA_REGISTRY_URL, c.schemaRegistryUrl());
        if (stateDir != null) props.put(RouterConfig.STATE_DIR, stateDir.toString());
        return new RouterApp(new RouterConfig(props));
    }

    /**
     * The worker's configuration: {@code settings} (by {@link WorkerConfig} key: the engine's and the
     * cache's options), then the connection, model, adapters and worker id; checked by {@link WorkerConfig},
     * whose errors name the key.
     */
    static WorkerConfig workerConfig(Connection c, Path model, Path adapters, String workerId, Map<String, ?> settings) {
        Map<String, Object> props = new HashMap<>(settings);
        props.put(WorkerConfig.BOOTSTRAP_SERVERS.name(), c.bootstrapServers());
        props.put(WorkerConfig.SCHEMA_REGISTRY_URL.name(), c.schemaRegistryUrl());
        if (model != null) props.put(WorkerConfig.MODEL_DIR.name(), model.toString());
        if (adapters != null) props.put(WorkerConfig.ADAPTER_DIR.name(), adapters.toString());
        if (workerId != null) props.put(WorkerConfig.WORKER_ID.name(), workerId);
        return WorkerConfig.from(props);
    }

    static InferenceEngine engine(WorkerConfig config) {
        return dev.lorastream.worker.EngineFactory.open(config);
    }

    static AttributionSink sink(Connection c, Path dataDir) {
        return new AttributionSink(SinkConfig.builder(c.bootstrapServers(), c.schemaRegistryUrl()).dataDir(dataDir).build());
    }

    static InferenceClient client(Connection c) {
        return new InferenceClient(ClientConfig.builder(c.bootstrapServers(), c.schemaRegistryUrl()).build());
    }

    static OpenAiServer http(InferenceClient client, int port) {
        return http(client, HttpConfig.builder().port(port).build());
    }

    static OpenAiServer http(InferenceClient client, HttpConfig config) {
        return new OpenAiServer(config, client);
    }
}
