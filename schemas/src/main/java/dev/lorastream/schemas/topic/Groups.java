package dev.lorastream.schemas.topic;

/**
 * The components' default consumer group ids, one home for every module that names them: the router's Kafka Streams
 * application id (also the prefix of its transactional ids and internal topics), the workers' group (the prefix of
 * their transactional ids, {@code <group>.<worker id>}) and the sink's group. The configs default to these; the
 * secured broker's ACLs and the transaction watchdog's watched topics are made from them.
 */
public final class Groups {
    public static final String ROUTER = "lorastream-router";
    public static final String WORKERS = "lorastream-workers";
    public static final String SINK = "lorastream-attribution-sink";

    private Groups() {}
}
