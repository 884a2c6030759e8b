package dev.lorastream.worker.internal;

import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.topic.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Publishes this worker's {@link WorkerStatus} to workers.status (key: worker id) when what
 * placement reads changes (state, partitions held, the adapters of each tier, free bank slots, the
 * load in quarter-row steps: looked at every {@value #CHECK_MS} ms) and at least every interval, from its own
 * non-transactional producer and thread. A failed heartbeat is logged, not fatal.
 */
public final class Heartbeat implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Heartbeat.class);

    private final String workerId;
    private final Duration interval;
    private final Producer<String, SpecificRecord> producer;
    private final Supplier<WorkerStatus> status;
    private final ScheduledExecutorService timer;
    /** How often the status is looked at for a change. */
    static final long CHECK_MS = 100;
    private Object lastView;
    private long lastSent;

    public Heartbeat(String workerId, Duration interval, Producer<String, SpecificRecord> producer, Supplier<WorkerStatus> status) {
        this.workerId = workerId;
        this.interval = interval;
        this.producer = producer;
        this.status = status;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lorastream-heartbeat-" + workerId);
            t.setDaemon(true);
            return t;
        });
    }

    public void start() {
        timer.scheduleAtFixedRate(this::tickQuietly, 0, Math.min(CHECK_MS, interval.toMillis()), TimeUnit.MILLISECONDS);
    }

    /** Publishes one heartbeat now. */
    public void beat() {
        send(status.get());
    }

    private synchronized void send(WorkerStatus s) {
        lastView = view(s);
        lastSent = System.nanoTime();
        producer.send(new ProducerRecord<>(Topics.WORKER_STATUS, workerId, s), (meta, e) -> {
            if (e != null) log.warn("heartbeat of {} not delivered: {}", workerId, e.toString());
        });
    }

    /** One look: a heartbeat when what placement reads changed or the interval has passed. */
    synchronized void tick() {
        WorkerStatus s = status.get();
        if (lastView == null || !view(s).equals(lastView) || System.nanoTime() - lastSent >= interval.toNanos()) send(s);
    }

    /**
     * What a change of which is news for placement: state, partitions, adapters per tier, bank slots
     * used, and the load in quarter-row steps (finer load changes happen every step and wait for the interval).
     */
    private static Object view(WorkerStatus s) {
        int level = (int) Math.min(16, Math.floor((s.getRunningRequests() + s.getWaitingRequests()) * 4.0 / Math.max(1, s.getMaxRows())));
        return java.util.List.of(s.getState(), s.getAssignedPartitions(), s.getDeviceAdapters(), s.getHostAdapters(), s.getBankSlotsUsed(), level);
    }

    private void tickQuietly() {
        try {
            tick();
        } catch (RuntimeException e) {
            log.warn("heartbeat of {} failed: {}", workerId, e.toString());
        }
    }

    private void beatQuietly() {
        try {
            beat();
        } catch (RuntimeException e) {
            log.warn("heartbeat of {} failed: {}", workerId, e.toString());
        }
    }

    /** Stops the timer, publishes a last heartbeat (the state the status supplier reports now) and closes the producer. */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        beatQuietly();
        try {
            producer.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            log.warn("closing the heartbeat producer: {}", e.toString());
        }
    }
}
