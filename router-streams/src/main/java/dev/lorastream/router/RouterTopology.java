package dev.lorastream.router;

import dev.lorastream.router.internal.AddressedResponse;
import dev.lorastream.router.internal.RequestDecoder;
import dev.lorastream.router.internal.RequestIds;
import dev.lorastream.router.internal.RequestRouter;
import dev.lorastream.schemas.DeadLetter;
import dev.lorastream.schemas.InferenceRequest;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.serde.AvroSerializer;
import dev.lorastream.schemas.topic.TopicDirectory;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;

/**
 * The router's topology, a pure function of its configuration and registry:
 * <pre>
 *   inference.requests (bytes) ──┬▶ validate-and-route ─┬─▶ inference.requests.routed   key adapter id, AdapterPartitioner
 *   inference.requests.by-id ────┘   [request-ids]      ├─▶ inference.dlq              key request id (or original key)
 *          ▲                                             ├─▶ reply_topic | inference.responses   ERROR response, key request id
 *          └─────────────────────────────────────────────┘   valid requests not keyed and placed by their request id
 * </pre>
 * Requests are read as bytes and decoded inside the processor, so that a bad record is
 * dead-lettered with its original bytes, topic, partition and offset. Both source topics feed one
 * processor and its dedupe store ({@code internal.RequestIds}): partition p of each is task p's.
 */
public final class RouterTopology {
    public static final String SOURCE = "requests";
    public static final String ROUTER = "validate-and-route";
    public static final String ROUTED_SINK = "routed";
    public static final String DEAD_LETTER_SINK = "dead-letters";
    public static final String REPLY_SINK = "error-replies";
    public static final String BY_ID_SOURCE = "requests-by-id";
    public static final String BY_ID_SINK = "to-requests-by-id";

    private RouterTopology() {}

    public static Topology buildTopology(RouterConfig config, SchemaRegistryClient registry) {
        return buildTopology(config, registry, new HashPlacement());
    }

    public static Topology buildTopology(RouterConfig config, SchemaRegistryClient registry, PlacementStrategy placement) {
        return buildTopology(config, registry, placement, TopicDirectory.TRUSTING);
    }

    /** @param topics which topics exist: requests naming a reply topic the cluster does not have are refused */
    public static Topology buildTopology(RouterConfig config, SchemaRegistryClient registry, PlacementStrategy placement, TopicDirectory topics) {
        Topology topology = new Topology();
        topology.addSource(SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), Topics.REQUESTS);
        topology.addSource(BY_ID_SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), Topics.REQUESTS_BY_ID);
        topology.addProcessor(ROUTER, () -> new RequestRouter(new RequestDecoder(registry), new RequestValidator(config, topics), topics,
                config.dedupeWindow(), ROUTED_SINK, DEAD_LETTER_SINK, REPLY_SINK, BY_ID_SINK), SOURCE, BY_ID_SOURCE);
        topology.addStateStore(RequestIds.storeBuilder(config.dedupeWindow()), ROUTER);
        topology.addSink(BY_ID_SINK, Topics.REQUESTS_BY_ID, new StringSerializer(), new ByteArraySerializer(), ROUTER);
        topology.addSink(ROUTED_SINK, Topics.ROUTED, new StringSerializer(), new AvroSerializer<InferenceRequest>(registry, false),
                new AdapterPartitioner(placement), ROUTER);
        topology.addSink(DEAD_LETTER_SINK, Topics.DLQ, new StringSerializer(), new AvroSerializer<DeadLetter>(registry, false), ROUTER);
        topology.addSink(REPLY_SINK, new AddressedResponse.TopicExtractor(), new StringSerializer(),
                new AddressedResponse.ValueSerializer(registry), ROUTER);
        return topology;
    }
}
