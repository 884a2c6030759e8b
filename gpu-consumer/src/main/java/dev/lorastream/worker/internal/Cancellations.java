package dev.lorastream.worker.internal;

import dev.lorastream.schemas.CancelRequest;
import dev.lorastream.schemas.topic.AssignedReader;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The cancellations on inference.cancels ({@link CancelRequest}) since this worker started, read on
 * a thread of their own by a group-less consumer of every partition (every worker sees every
 * cancellation; the one that has the request acts on it). The most recent {@value #REMEMBERED} are
 * kept. A missing topic is looked for again until it exists.
 */
public final class Cancellations extends AssignedReader<CancelRequest> {
    static final int REMEMBERED = 10_000;

    private final Map<String, CancelRequest> recent = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, CancelRequest> eldest) { return size() > REMEMBERED; }
    };

    /** Touched by the reader thread only. */
    private boolean assigned;

    public Cancellations(Consumer<String, CancelRequest> consumer, String workerId) {
        super(consumer, Topics.CANCELS, "lorastream-cancels-" + workerId);
        startThread();
    }

    /** The cancellation of this request, or null. */
    public CancelRequest of(String requestId) {
        synchronized (recent) {
            return recent.get(requestId);
        }
    }

    @Override
    protected boolean ready() {
        if (!assigned) assigned = assignAllAtEnd();
        return assigned;
    }

    @Override
    protected void accept(ConsumerRecord<String, CancelRequest> record) {
        if (record.value() == null) return;
        synchronized (recent) {
            recent.put(record.value().getRequestId(), record.value());
        }
    }
}
