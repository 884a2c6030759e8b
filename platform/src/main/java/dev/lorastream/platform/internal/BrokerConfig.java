package dev.lorastream.platform.internal;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The server properties of a single-node KRaft broker+controller on 127.0.0.1, sized for tests and
 * a laptop: replication factor and min ISR 1 everywhere, few internal-topic partitions, no initial
 * rebalance delay, a 4 MiB log-cleaner buffer (the 128 MiB default does not fit a small heap).
 */
public final class BrokerConfig {
    public static final int NODE_ID = 1;
    /** Partitions of the internal topics (__consumer_offsets, __transaction_state, share-group state). */
    public static final int INTERNAL_TOPIC_PARTITIONS = 4;
    public static final int CLEANER_DEDUPE_BUFFER_BYTES = 4 * 1024 * 1024;

    private BrokerConfig() {}

    public static Map<String, String> serverProperties(Path logDir, int port, int controllerPort,
                                                       int defaultPartitions, Map<String, String> overrides) {
        if (defaultPartitions < 1) throw new IllegalArgumentException("num.partitions must be at least 1, got " + defaultPartitions);
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(NODE_ID));
        p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", logDir.toAbsolutePath().toString());

        p.put("num.partitions", String.valueOf(defaultPartitions));
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        p.put("auto.create.topics.enable", "true");

        String internal = String.valueOf(INTERNAL_TOPIC_PARTITIONS);
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", internal);
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", internal);
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("share.coordinator.state.topic.num.partitions", internal);
        p.put("group.initial.rebalance.delay.ms", "0");
        // a worker that dies holds its open transaction until transaction.timeout.ms passes and the coordinator's next
        // scan aborts it; read_committed readers of its output partitions wait that long. Kafka scans every 10 s by
        // default, which adds up to 10 s to every recovery: scan every second
        p.put("transaction.abort.timed.out.transaction.cleanup.interval.ms", "1000");

        p.put("log.cleaner.dedupe.buffer.size", String.valueOf(CLEANER_DEDUPE_BUFFER_BYTES));
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "2");
        p.put("background.threads", "2");
        p.put("num.recovery.threads.per.data.dir", "1");
        p.putAll(overrides);
        return p;
    }
}
