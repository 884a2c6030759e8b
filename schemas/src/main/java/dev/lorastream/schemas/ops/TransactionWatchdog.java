package dev.lorastream.schemas.ops;

import dev.lorastream.schemas.config.KafkaClientSettings;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.admin.AbortTransactionSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeProducersResult;
import org.apache.kafka.clients.admin.DescribeTransactionsResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Aborts transactions that hold back every read_committed reader of a partition of the pipeline's
 * topics, or the committed offsets of a consumer group, so that such a fault heals without an operator. A
 * read_committed reader cannot read past a partition's last stable offset, the start of its oldest open
 * transaction; and a consumer that reads committed offsets (every read_committed consumer of a group, after each
 * assignment) waits while a transaction holds offsets of its group pending on {@code __consumer_offsets}. Two
 * faults keep a transaction open:
 * <ul>
 * <li>a <b>hanging</b> transaction: its coordinator has completed it (or lost it: after a broker's
 * {@code kill -9}) but the marker never reached this partition, so nothing will ever end it there
 * ({@code kafka-transactions.sh find-hanging} finds these; its rule is followed here). The fault matrix found
 * one on {@code __consumer_offsets} after broker kills: the worker whose offsets it held waited in
 * {@code poll} for its committed offsets for good and served nothing, while its data partitions had been
 * healed;</li>
 * <li>a <b>stalled</b> producer (a frozen, {@code SIGSTOP}ped process) holding its transaction open: its
 * coordinator still tracks it and aborts it only after the producer's own {@code transaction.timeout.ms}, up
 * to 15 minutes for a producer that asked for that.</li>
 * </ul>
 * Every {@code interval} a scan asks the partition leaders ({@code describeProducers}) which producers have a
 * transaction open on each partition of the topics (those that exist), of the topics named with one of the prefixes
 * ({@link #PIPELINE_PREFIXES}: reply topics, the router's Kafka Streams changelog) and of {@code __consumer_offsets}. A
 * transaction counts as open since the first scan of this watchdog that saw it (same partition, producer id,
 * epoch and start offset: a producer's next transaction starts at another offset, so a busy producer's short
 * transactions never add up). One open longer than {@code hangingAfter} is looked up at its coordinator
 * ({@code listTransactions} by producer id, {@code describeTransactions}) and classified ({@link #stuckReason}).
 * A hanging one is aborted then; a stalled one once it is open longer than {@code maxOpen}, and never on
 * {@code __consumer_offsets}, which other applications' groups share: a stalled producer is its coordinator's
 * to end, and the pipeline's own producers time out in 10 s. Before the abort the transaction is checked once
 * more to be open at the same offset; {@link Admin#abortTransaction} has the leader write an abort marker, and
 * the last stable offset (or the group's pending offsets) moves on. One WARN line per abort names partition,
 * producer id and epoch, transactional id, age and reason; aborts are counted ({@link #aborted()},
 * {@link #METRIC}).
 * <p>
 * <b>The bounds.</b> Aborting a live producer's transaction is safe only when that producer's coordinator has
 * aborted it already or is about to: it then learns of it and aborts and retries (a worker's poll loop does).
 * {@code maxOpen} must therefore stay well above the {@code transaction.timeout.ms} of every producer of these
 * topics (workers 10 s, the router's Kafka Streams 10 s under exactly-once; workers commit every few
 * milliseconds to seconds), so that a slow but healthy transaction is ended by its coordinator first and the
 * watchdog only ever acts on what nobody else will end. A producer with a longer timeout that stalls past the
 * bound and then resumes would find its transaction aborted on these partitions only: what it wrote after the
 * abort could still commit. The default, {@link #DEFAULT_MAX_OPEN} (60 s), is six times the pipeline's
 * timeouts and leaves a stall of at most a minute and a scan. A hanging transaction is one its coordinator no
 * longer has on that partition, so no producer's timeout protects it: {@code hangingAfter}
 * ({@link #DEFAULT_HANGING_AFTER}, 20 s, at most {@code maxOpen}) is there only so that a transaction seen
 * open by the leader and already complete at its coordinator in the same scan (its marker on the way) is
 * not taken for one: the same start offset must be seen open for that long, twice the pipeline's timeouts.
 * <p>
 * Bounded: each scan ends within {@code scanTimeout}; a failed scan is logged and the next one goes on; nothing
 * is thrown out of the watchdog's thread. {@link #scan()} runs one scan on the caller's thread (tests).
 */
public final class TransactionWatchdog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TransactionWatchdog.class);

    /** The counter of aborts, in Prometheus' text format (see {@link #prometheusText()}). */
    public static final String METRIC = "lorastream_transactions_aborted_by_watchdog_total";
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);
    public static final Duration DEFAULT_MAX_OPEN = Duration.ofSeconds(60);
    public static final Duration DEFAULT_HANGING_AFTER = Duration.ofSeconds(20);
    /**
     * Prefixes of the other topics the pipeline's transactions write: reply topics ({@code inference.responses.*}) and
     * the router's Kafka Streams internal topics ({@code lorastream-router-request-ids-changelog}: the fault matrix found a
     * hanging transaction there after broker kills, and the router restoring that store stayed REBALANCING for good).
     */
    public static final List<String> PIPELINE_PREFIXES = List.of(Topics.RESPONSES, dev.lorastream.schemas.topic.Groups.ROUTER);
    /** Where consumer groups' committed offsets live; a transaction's offsets are pending there until its marker. */
    public static final String OFFSETS_TOPIC = "__consumer_offsets";
    public static final Duration DEFAULT_SCAN_TIMEOUT = Duration.ofSeconds(30);

    private final Admin admin;
    private final AutoCloseable adminOwner;
    private final Set<String> topics;
    /** Topics watched by name prefix too: reply topics, and the router's Kafka Streams internal topics. */
    private final List<String> prefixes;
    private final Duration interval;
    private final long maxOpenMs;
    private final long hangingAfterMs;
    private final Duration scanTimeout;
    private final LongSupplier clockMs;
    private final String name;
    /** When each open transaction was first seen; touched by the scanning thread only. */
    private final Map<OpenKey, Long> firstSeen = new HashMap<>();
    private final Object scanLock = new Object();
    private final AtomicLong aborted = new AtomicLong();
    private final AtomicLong scans = new AtomicLong();
    private final AtomicLong failedScans = new AtomicLong();
    private ScheduledExecutorService executor;
    private boolean closed;

    /** An open transaction as one leader reports it: where, whose, since which offset. */
    public record OpenKey(TopicPartition partition, long producerId, int producerEpoch, long startOffset) {}

    /** A transaction open longer than the bound, with how long this watchdog has seen it open. */
    public record Overdue(OpenKey key, ProducerState producer, long openMs) {}

    /**
     * A watchdog over the pipeline's topics ({@link Topics#VALUE_SCHEMAS}) with an admin client of its own
     * (closed with it), or null when {@code interval} or {@code maxOpen} is zero (disabled).
     */
    public static TransactionWatchdog create(String bootstrapServers, String clientId, Duration interval, Duration maxOpen) {
        if (interval.isZero() || maxOpen.isZero()) return null;
        int timeoutMs = (int) DEFAULT_SCAN_TIMEOUT.toMillis();
        Admin admin = Admin.create(KafkaClientSettings.with(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.CLIENT_ID_CONFIG, clientId,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs)));
        return new TransactionWatchdog(admin, () -> admin.close(Duration.ofSeconds(5)), Topics.VALUE_SCHEMAS.keySet(), PIPELINE_PREFIXES,
                interval, maxOpen, DEFAULT_SCAN_TIMEOUT, TransactionWatchdog::monotonicMs, clientId);
    }

    /** Over {@code topics} with the caller's admin client (not closed by {@link #close()}). */
    public TransactionWatchdog(Admin admin, Collection<String> topics, Duration interval, Duration maxOpen) {
        this(admin, () -> { }, topics, List.of(), interval, maxOpen, DEFAULT_SCAN_TIMEOUT, TransactionWatchdog::monotonicMs, "transaction-watchdog");
    }

    TransactionWatchdog(Admin admin, AutoCloseable adminOwner, Collection<String> topics, List<String> prefixes, Duration interval, Duration maxOpen,
                        Duration scanTimeout, LongSupplier clockMs, String name) {
        if (interval.isNegative() || interval.isZero()) throw new IllegalArgumentException("interval must be positive, got " + interval);
        if (maxOpen.isNegative() || maxOpen.isZero()) throw new IllegalArgumentException("maxOpen must be positive, got " + maxOpen);
        this.admin = Objects.requireNonNull(admin);
        this.adminOwner = adminOwner;
        this.topics = Set.copyOf(topics);
        this.prefixes = List.copyOf(prefixes);
        this.interval = interval;
        this.maxOpenMs = maxOpen.toMillis();
        this.hangingAfterMs = Math.min(maxOpenMs, DEFAULT_HANGING_AFTER.toMillis());
        this.scanTimeout = scanTimeout;
        this.clockMs = clockMs;
        this.name = name;
    }

    /** Scans every {@code interval} on a daemon thread of its own, the first scan at once. */
    public synchronized TransactionWatchdog start() {
        if (closed) throw new IllegalStateException("the transaction watchdog is closed");
        if (executor != null) return this;
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        executor.scheduleWithFixedDelay(this::scanQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        log.info("transaction watchdog {}: every {} ms, aborting hanging transactions open longer than {} ms and others open longer "
                        + "than {} ms on {} and topics starting with {}, and hanging ones on {}", name, interval.toMillis(), hangingAfterMs, maxOpenMs,
                new TreeSet<>(topics), prefixes, OFFSETS_TOPIC);
        return this;
    }

    /** Transactions aborted so far. */
    public long aborted() { return aborted.get(); }

    /** Scans done, including failed ones. */
    public long scans() { return scans.get(); }

    /** Scans that failed (logged; the next one went on). */
    public long failedScans() { return failedScans.get(); }

    public Duration maxOpen() { return Duration.ofMillis(maxOpenMs); }

    /** How long a transaction its coordinator no longer has on a partition stays before it is aborted. */
    public Duration hangingAfter() { return Duration.ofMillis(hangingAfterMs); }

    /** {@link #METRIC} in the Prometheus text exposition format. */
    public String prometheusText() {
        return "# HELP " + METRIC + " Transactions on the pipeline's topics aborted by the transaction watchdog (hanging, or open too long).\n"
                + "# TYPE " + METRIC + " counter\n" + METRIC + " " + aborted.get() + "\n";
    }

    private void scanQuietly() {
        try {
            scan();
        } catch (Throwable t) {
            failedScans.incrementAndGet();
            if (t instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                return;
            }
            log.warn("transaction watchdog {}: scan failed, the next one in {} ms: {}", name, interval.toMillis(), t.toString());
        }
    }

    /**
     * One scan: finds the transactions open longer than the bound and aborts them.
     *
     * @return how many were aborted
     * @throws Exception when the cluster cannot be asked within the scan's timeout
     */
    public int scan() throws Exception {
        synchronized (scanLock) {
            return scanOnce();
        }
    }

    private int scanOnce() throws Exception {
        scans.incrementAndGet();
        long deadline = System.nanoTime() + scanTimeout.toNanos();
        Set<String> present = new HashSet<>(get(admin.listTopics(new ListTopicsOptions().listInternal(true)).names(), deadline));
        present.removeIf(t -> !watched(t));
        if (present.isEmpty()) {
            firstSeen.clear();
            return 0;
        }
        List<TopicPartition> partitions = new ArrayList<>();
        for (TopicDescription d : get(admin.describeTopics(present).allTopicNames(), deadline).values()) {
            d.partitions().forEach(p -> partitions.add(new TopicPartition(d.name(), p.partition())));
        }
        DescribeProducersResult described = admin.describeProducers(partitions);
        Map<TopicPartition, List<ProducerState>> producers = new HashMap<>();
        for (TopicPartition tp : partitions) {
            try {
                producers.put(tp, get(described.partitionResult(tp), deadline).activeProducers());
            } catch (ExecutionException e) {
                // leader moving, partition being deleted: its transactions are looked at in the next scan
                log.debug("transaction watchdog {}: cannot describe the producers of {}: {}", name, tp, e.getCause().toString());
            }
        }
        Set<TopicPartition> scanned = new HashSet<>(partitions);
        firstSeen.keySet().removeIf(k -> !scanned.contains(k.partition())); // a topic deleted since
        List<Overdue> overdue = overdue(producers, firstSeen, clockMs.getAsLong(), hangingAfterMs);
        if (overdue.isEmpty()) return 0;

        Set<Long> producerIds = new HashSet<>();
        overdue.forEach(o -> producerIds.add(o.key().producerId()));
        Map<Long, String> transactionalIds = new HashMap<>();
        Collection<TransactionListing> listings = get(admin.listTransactions(new ListTransactionsOptions().filterProducerIds(producerIds)).all(), deadline);
        for (TransactionListing l : listings) {
            if (producerIds.contains(l.producerId())) transactionalIds.put(l.producerId(), l.transactionalId());
        }
        Map<String, TransactionDescription> descriptions = new HashMap<>();
        if (!transactionalIds.isEmpty()) {
            DescribeTransactionsResult result = admin.describeTransactions(new HashSet<>(transactionalIds.values()));
            for (String id : new HashSet<>(transactionalIds.values())) {
                try {
                    descriptions.put(id, get(result.description(id), deadline));
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TransactionalIdNotFoundException)) throw e;
                    // not found: its coordinator does not know it, so nothing will end the transaction
                }
            }
        }

        int abortedNow = 0;
        for (Overdue o : overdue) {
            String transactionalId = transactionalIds.get(o.key().producerId());
            String reason = stuckReason(o, transactionalId, transactionalId == null ? null : descriptions.get(transactionalId));
            if (!abortable(o, reason, maxOpenMs)) continue;
            try {
                if (!stillOpen(o.key(), deadline)) continue;
                OpenKey k = o.key();
                int coordinatorEpoch = Math.max(0, o.producer().coordinatorEpoch().orElse(0)); // -1 before its first marker: 0 is at most any epoch
                get(admin.abortTransaction(new AbortTransactionSpec(k.partition(), k.producerId(), (short) k.producerEpoch(), coordinatorEpoch)).all(),
                        deadline);
                aborted.incrementAndGet();
                abortedNow++;
                firstSeen.remove(k);
                log.warn("transaction watchdog aborted the transaction on {} of producer id {} epoch {} (transactional id {}), open since offset {} "
                                + "for {} s: {}", k.partition(), k.producerId(), k.producerEpoch(),
                        transactionalId == null ? "unknown" : "'" + transactionalId + "'", k.startOffset(), o.openMs() / 1000, reason);
            } catch (ExecutionException e) {
                log.warn("transaction watchdog {}: aborting the transaction on {} of producer id {} failed, trying again next scan: {}",
                        name, o.key().partition(), o.key().producerId(), e.getCause().toString());
            }
        }
        return abortedNow;
    }

    private boolean watched(String topic) {
        return topics.contains(topic) || topic.equals(OFFSETS_TOPIC) || prefixes.stream().anyMatch(topic::startsWith);
    }

    /**
     * The decision's last step, a pure function: an overdue transaction (open longer than the hanging bound) is
     * aborted when its {@code reason} ({@link #stuckReason}) is that it hangs, or when it has been open longer than
     * {@code maxOpenMs} on a topic other than {@value #OFFSETS_TOPIC}.
     */
    public static boolean abortable(Overdue o, String reason, long maxOpenMs) {
        if (reason.startsWith("hanging")) return true;
        return o.openMs() > maxOpenMs && !o.key().partition().topic().equals(OFFSETS_TOPIC);
    }

    /** Whether the leader still reports the transaction open at the same start offset (it may have ended since). */
    private boolean stillOpen(OpenKey k, long deadline) throws Exception {
        List<ProducerState> now = get(admin.describeProducers(List.of(k.partition())).partitionResult(k.partition()), deadline).activeProducers();
        return now.stream().anyMatch(p -> k.equals(keyOf(k.partition(), p)));
    }

    /**
     * The decision's first half, a pure function but for {@code firstSeen}, which it keeps: every open
     * transaction in {@code producers} is remembered with the time it was first seen (those no longer open are
     * forgotten), and those seen open longer than {@code maxOpenMs} are returned.
     */
    public static List<Overdue> overdue(Map<TopicPartition, ? extends Collection<ProducerState>> producers, Map<OpenKey, Long> firstSeen,
                                        long nowMs, long maxOpenMs) {
        Set<OpenKey> open = new HashSet<>();
        List<Overdue> overdue = new ArrayList<>();
        producers.forEach((tp, states) -> {
            for (ProducerState p : states) {
                OpenKey key = keyOf(tp, p);
                if (key == null) continue;
                open.add(key);
                long since = firstSeen.computeIfAbsent(key, k -> nowMs);
                if (nowMs - since > maxOpenMs) overdue.add(new Overdue(key, p, nowMs - since));
            }
        });
        // a transaction no longer open on a partition just described has ended; one on a partition that could not be
        // described this time is kept
        firstSeen.keySet().removeIf(k -> producers.containsKey(k.partition()) && !open.contains(k));
        return overdue;
    }

    private static OpenKey keyOf(TopicPartition tp, ProducerState p) {
        if (p.currentTransactionStartOffset().isEmpty()) return null;
        return new OpenKey(tp, p.producerId(), p.producerEpoch(), p.currentTransactionStartOffset().getAsLong());
    }

    /**
     * The decision's second half, a pure function: why an overdue transaction is stuck, after Kafka's
     * {@code kafka-transactions.sh find-hanging}. Hanging when no transactional id has its producer id, when its
     * coordinator does not know that id, when the coordinator's transaction of that id is another producer's or
     * does not include the partition (complete, or a later transaction that never wrote there: the coordinator
     * lists every partition of an ongoing transaction and every one still waiting for its marker); otherwise the
     * coordinator still has it and the producer is stalled. Either way it is aborted: it has been open longer
     * than the bound. (The epochs are not compared: under Kafka 4's transaction protocol 2 the epoch is bumped
     * when a transaction ends, so a pending marker legitimately carries another epoch than the data.)
     */
    public static String stuckReason(Overdue o, String transactionalId, TransactionDescription coordinator) {
        long open = o.openMs() / 1000;
        if (transactionalId == null) {
            return "hanging: no transactional id has producer id " + o.key().producerId() + " any more, so no coordinator will end it";
        }
        if (coordinator == null) {
            return "hanging: the coordinator does not know transactional id '" + transactionalId + "'";
        }
        if (coordinator.producerId() != o.key().producerId()) {
            return "hanging: transactional id '" + transactionalId + "' has moved on to producer id " + coordinator.producerId();
        }
        if (!coordinator.topicPartitions().contains(o.key().partition())) {
            return "hanging: the coordinator's transaction of '" + transactionalId + "' (" + coordinator.state()
                    + ") does not include this partition, so its marker will never come";
        }
        String state = coordinator.state() == TransactionState.ONGOING ? "ongoing" : coordinator.state().toString();
        return "open " + open + " s, longer than the bound, and still " + state + " at its coordinator (timeout "
                + coordinator.transactionTimeoutMs() + " ms): its producer is stalled";
    }

    private static <T> T get(KafkaFuture<T> future, long deadlineNanos) throws ExecutionException, InterruptedException, TimeoutException {
        long left = Math.max(1, deadlineNanos - System.nanoTime());
        return future.get(left, TimeUnit.NANOSECONDS);
    }

    private static long monotonicMs() { return System.nanoTime() / 1_000_000; }

    /** Stops scanning (a scan in progress is interrupted) and closes the admin client if it is the watchdog's own. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (executor != null) {
            executor.shutdownNow();
            try {
                executor.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            adminOwner.close();
        } catch (Exception e) {
            log.debug("closing the watchdog's admin client: {}", e.toString());
        }
    }

    @Override
    public String toString() {
        return "TransactionWatchdog{" + name + ", every " + interval.toMillis() + " ms, hanging after " + hangingAfterMs + " ms, max open " + maxOpenMs + " ms, " + aborted.get() + " aborted}";
    }
}
