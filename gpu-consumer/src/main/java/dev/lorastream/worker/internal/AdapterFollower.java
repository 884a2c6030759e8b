package dev.lorastream.worker.internal;

import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.schemas.AdapterDescriptor;
import dev.lorastream.schemas.topic.AssignedReader;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Follows adapters.catalog: each new record (an adapter added, a new version of one, a tombstone
 * for one removed) makes the engine rescan that adapter in its store, which the command that
 * published the record has already changed. The engine then serves an added adapter, drops the old version of a
 * replaced one from every tier (in-use device slots once their requests finish) and refuses a
 * removed one with UNKNOWN_ADAPTER; the worker restarts nothing. Records published while the
 * worker was down are already in the store it scanned at start, so the follower starts at the
 * catalog's end.
 */
public final class AdapterFollower extends AssignedReader<AdapterDescriptor> {
    private static final Logger log = LoggerFactory.getLogger(AdapterFollower.class);

    private final InferenceEngine engine;
    private final AtomicLong rescans = new AtomicLong();
    /** Touched by the reader thread only. */
    private boolean assigned;

    public AdapterFollower(Consumer<String, AdapterDescriptor> consumer, InferenceEngine engine, String workerId) {
        super(consumer, Topics.ADAPTER_CATALOG, "lorastream-adapters-" + workerId);
        this.engine = engine;
        startThread();
    }

    @Override
    protected boolean ready() {
        if (assigned) return true;
        assigned = assignAllAtEnd();
        if (assigned) engine.reloadAdapters(); // what changed between the engine's start and the follower standing at the end
        return assigned;
    }

    @Override
    protected void accept(ConsumerRecord<String, AdapterDescriptor> r) {
        AdapterDescriptor d = r.value();
        String id = r.key() != null ? r.key() : d != null ? d.getAdapterId() : null;
        if (id == null) return;
        log.info("adapters.catalog: {} {}", id, d == null ? "removed" : "version " + d.getVersion());
        try {
            if (engine.reloadAdapter(id)) log.info("adapter {} rescanned: {}", id, engine.adapterIds().contains(id) ? "in the store" : "gone");
            rescans.incrementAndGet();
        } catch (RuntimeException e) {
            log.warn("rescanning adapter {} failed: {}", id, e.toString());
        }
    }

    /** Rescans done for catalog records. */
    public long rescans() { return rescans.get(); }
}
