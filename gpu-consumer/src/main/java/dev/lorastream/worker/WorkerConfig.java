package dev.lorastream.worker;

import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.adapters.cache.CacheConfig;
import org.apache.kafka.common.config.ConfigException;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The worker's configuration: every key typed, defaulted, validated and documented in {@link #KEYS};
 * contradictory combinations are refused at construction with a message naming the keys.
 */
public final class WorkerConfig {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,200}");

    public static final ConfigKey<String> BOOTSTRAP_SERVERS = ConfigKey.string("bootstrap.servers", null,
            Pattern.compile("[^,\\s]+(,[^,\\s]+)*"), "Kafka brokers, host:port[,host:port...]");
    public static final ConfigKey<String> SCHEMA_REGISTRY_URL = ConfigKey.string("schema.registry.url", null,
            Pattern.compile("https?://\\S+"), "Confluent-compatible schema registry base URL");
    public static final ConfigKey<String> GROUP_ID = ConfigKey.string("group.id", () -> dev.lorastream.schemas.topic.Groups.WORKERS, ID,
            "consumer group shared by all workers of one deployment");
    public static final ConfigKey<String> WORKER_ID = ConfigKey.string("worker.id", WorkerConfig::hostPid, ID,
            "this worker's id (key of its heartbeats; give a stable one so a restart fences its predecessor)");
    public static final ConfigKey<Integer> MAX_BATCH_SIZE = ConfigKey.integer("max.batch.size", 8, 1, 1024,
            "most requests run in one engine batch");
    public static final ConfigKey<Integer> MAX_POLL_RECORDS = ConfigKey.integer("max.poll.records", 32, 1, 10_000,
            "most records taken per poll; all of them are answered in one Kafka transaction");
    public static final ConfigKey<Duration> POLL_TIMEOUT = ConfigKey.millis("poll.timeout.ms", 200, 1, 60_000,
            "how long one poll waits for records");
    public static final ConfigKey<Duration> SESSION_TIMEOUT = ConfigKey.millis("session.timeout.ms",
            dev.lorastream.schemas.ops.GroupMembership.DEFAULT_SESSION_TIMEOUT.toMillis(), 1_000, 600_000,
            "the consumer group's session timeout: a worker that dies without leaving loses its partitions after this, and they are "
                    + "served elsewhere within about 10 s (heartbeats every quarter of it; the broker's group.min.session.timeout.ms, 6000 by default, bounds it below)");
    public static final ConfigKey<String> GROUP_MEMBERSHIP = ConfigKey.oneOf("group.membership", "static", Set.of("static", "dynamic"),
            "static: the worker is a static member of its group under its worker.id (group.instance.id): restarted with the same id within "
                    + "session.timeout.ms it gets its partitions back without a rebalance; dynamic: an anonymous member (every restart rebalances)");
    public static final ConfigKey<String> LEAVE_GROUP_ON_CLOSE = ConfigKey.oneOf("group.leave.on.close", "true", Set.of("true", "false"),
            "true: a worker that is stopped leaves its group, so its partitions are served elsewhere at once (scaling down); false: a static "
                    + "member keeps them reserved until session.timeout.ms, for a restart in place without a rebalance");
    public static final ConfigKey<Duration> WATCHDOG_INTERVAL = ConfigKey.millis("transaction.watchdog.interval.ms",
            dev.lorastream.schemas.ops.TransactionWatchdog.DEFAULT_INTERVAL.toMillis(), 0, 3_600_000,
            "how often the worker's transaction watchdog looks for transactions that stall read_committed readers of the pipeline's topics "
                    + "or a group's committed offsets (hanging after a broker crash, or held by a frozen producer) and aborts them; 0 disables it");
    public static final ConfigKey<Duration> WATCHDOG_MAX_OPEN = ConfigKey.millis("transaction.watchdog.max.open.ms",
            dev.lorastream.schemas.ops.TransactionWatchdog.DEFAULT_MAX_OPEN.toMillis(), 0, 86_400_000,
            "a transaction the watchdog sees open longer than this is aborted (a hanging one, which its coordinator no longer has there, "
                    + "after 20 s or this, whichever is less); keep it well above every pipeline producer's "
                    + "transaction.timeout.ms (the broker aborts a live producer's slow transaction first, and the producer retries); 0 disables the watchdog");
    public static final ConfigKey<Duration> TRANSACTION_TIMEOUT = ConfigKey.millis("transaction.timeout.ms", 10_000, 1_000, 900_000,
            "a transaction of this worker open longer is aborted by the broker: how long a worker that dies mid-transaction can hold back read_committed readers of the response topics");
    public static final ConfigKey<Duration> HEARTBEAT_INTERVAL = ConfigKey.millis("heartbeat.interval.ms", 1_000, 10, 600_000,
            "longest time between WorkerStatus heartbeats on workers.status (one is also sent as soon as partitions, state or resident adapters change)");
    public static final ConfigKey<String> ENGINE = ConfigKey.oneOf("engine", "onnx", Set.of("onnx", "sim"),
            "onnx: the real engine on ONNX Runtime; sim: a simulated engine (a cost model calibrated from H200 measurements, no model, labelled simulated everywhere) for fleet-scale tests");
    public static final ConfigKey<Path> MODEL_DIR = ConfigKey.optionalDirectory("model.dir", "backbone model directory (required with engine=onnx)");
    public static final ConfigKey<Path> ADAPTER_DIR = ConfigKey.optionalDirectory("adapter.dir", "directory holding one folder per adapter (required with engine=onnx)");
    public static final ConfigKey<Integer> SIM_ADAPTERS = ConfigKey.integer("sim.adapters", 1000, 0, 1_000_000,
            "engine=sim: adapters its store holds, named by sim.adapter.format");
    public static final ConfigKey<String> SIM_ADAPTER_FORMAT = ConfigKey.string("sim.adapter.format", () -> "z%04d", Pattern.compile(".*%0?\\d*d.*"),
            "engine=sim: the adapters' ids, a format of their number from 0");
    public static final ConfigKey<Integer> SIM_DEVICE_SLOTS = ConfigKey.integer("sim.device.slots", 48, 1, 100_000, "engine=sim: device bank slots");
    public static final ConfigKey<Integer> SIM_HOST_SLOTS = ConfigKey.integer("sim.host.slots", 192, 1, 1_000_000, "engine=sim: adapters the host tier holds");
    public static final ConfigKey<Double> SIM_TIME_SCALE = ConfigKey.decimal("sim.time.scale", 1.0, 1.0, 1000.0,
            "engine=sim: every simulated duration times this (a fleet on a small machine runs slower than the GPU would)");
    public static final ConfigKey<String> EXECUTION_PROVIDER = ConfigKey.oneOf("execution.provider", "cpu", Set.of("cpu", "cuda"),
            "ONNX Runtime execution provider");
    public static final ConfigKey<String> PRECISION = ConfigKey.oneOf("engine.precision", "auto", Set.of("auto", "fp32", "fp16"),
            "weights, activations, KV cache and LoRA bank of the decoder graph: auto = fp16 on cuda (the fused graph), fp32 on cpu");
    public static final ConfigKey<String> GRAPH = ConfigKey.oneOf("engine.graph", "auto", Set.of("auto", "fused", "reference"),
            "decoder graph: auto = the fused graph (GroupQueryAttention, static KV cache, CUDA-graph decode) where the model, provider and "
                    + "precision allow it, else the reference graph; the choice and its reason are logged at start-up");
    public static final ConfigKey<Integer> KV_CAPACITY = ConfigKey.integer("engine.kv.capacity", 0, 0, 1 << 20,
            "tokens per row (prompt + generated) of the fused graph's static KV cache; 0 = the model's limit, at most "
                    + dev.lorastream.engine.EngineConfig.DEFAULT_KV_CAPACITY);
    public static final ConfigKey<String> CUDA_GRAPHS = ConfigKey.oneOf("engine.cuda.graphs", "on", Set.of("on", "off"),
            "cuda with the fused graph: capture each decode batch bucket as a CUDA graph at start-up and replay it");
    public static final ConfigKey<Integer> BANK_RANK = ConfigKey.integer("adapter.bank.rank", 0, 0, 1024,
            "LoRA rank the bank reserves per projection it covers; 0 = the largest rank the store's adapters use at start-up "
                    + "(the bank's shape is fixed once the worker starts; adapters needing more are refused with the reason)");
    public static final ConfigKey<String> BANK_TARGETS = ConfigKey.string("adapter.bank.targets", () -> "",
            Pattern.compile("^$|(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)(,(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj))*"),
            "projections the bank covers besides those the store's adapters target at start-up, comma-separated (e.g. q_proj,k_proj,v_proj,o_proj)");
    public static final ConfigKey<String> TF32 = ConfigKey.oneOf("engine.tf32", "off", Set.of("off", "on"),
            "TF32 matmuls on CUDA: faster, but fp32 results then differ from the CPU's");
    public static final ConfigKey<Long> ADAPTER_DEVICE_BYTES = ConfigKey.bytes(CacheConfig.DEVICE_BYTES, 0,
            "device tier of the adapter cache (bank slots at the maximum rank); 0 = room for 8 adapters");
    public static final ConfigKey<Long> ADAPTER_HOST_BYTES = ConfigKey.bytes(CacheConfig.HOST_BYTES, 0,
            "host-memory tier of the adapter cache, at least the device tier; 0 = 4 x the device tier");
    public static final ConfigKey<String> ADAPTER_EVICTION_POLICY = ConfigKey.oneOf(CacheConfig.EVICTION_POLICY, CacheConfig.DEFAULT_POLICY,
            Set.of("lfu", "lru"), "eviction policy of both adapter cache tiers: lfu (least frequently used, with aging) or lru");
    public static final ConfigKey<Integer> ENGINE_MAX_ATTEMPTS = ConfigKey.integer("engine.max.attempts", 3, 1, 100,
            "attempts of a failing batch before its requests are answered with INTERNAL errors");
    public static final ConfigKey<Duration> RETRY_BACKOFF = ConfigKey.millis("retry.backoff.ms", 100, 0, 60_000,
            "first pause before retrying a failed batch or transaction (doubles per attempt)");
    public static final ConfigKey<Duration> RETRY_BACKOFF_MAX = ConfigKey.millis("retry.backoff.max.ms", 5_000, 0, 600_000,
            "cap of the retry pause");
    public static final ConfigKey<String> REPLY_TOPIC_PATTERN = ConfigKey.regex("reply.topic.pattern",
            dev.lorastream.schemas.topic.Topics.DEFAULT_REPLY_TOPIC_PATTERN,
            "reply topics a request may name (the router's router.reply.topic.pattern); a request naming another is answered on inference.responses");
    public static final ConfigKey<Duration> SHUTDOWN_TIMEOUT = ConfigKey.millis("shutdown.timeout.ms", 60_000, 1, 3_600_000,
            "how long close() waits for the batch in progress before interrupting it");

    /** Every key, in the order of the help text. */
    public static final List<ConfigKey<?>> KEYS = List.of(BOOTSTRAP_SERVERS, SCHEMA_REGISTRY_URL, GROUP_ID, WORKER_ID,
            MAX_BATCH_SIZE, MAX_POLL_RECORDS, POLL_TIMEOUT, SESSION_TIMEOUT, GROUP_MEMBERSHIP, LEAVE_GROUP_ON_CLOSE, TRANSACTION_TIMEOUT,
            WATCHDOG_INTERVAL, WATCHDOG_MAX_OPEN, HEARTBEAT_INTERVAL, ENGINE, MODEL_DIR, ADAPTER_DIR,
            SIM_ADAPTERS, SIM_ADAPTER_FORMAT, SIM_DEVICE_SLOTS, SIM_HOST_SLOTS, SIM_TIME_SCALE,
            EXECUTION_PROVIDER, PRECISION, TF32, GRAPH, KV_CAPACITY, CUDA_GRAPHS, BANK_RANK, BANK_TARGETS, ADAPTER_DEVICE_BYTES, ADAPTER_HOST_BYTES, ADAPTER_EVICTION_POLICY, ENGINE_MAX_ATTEMPTS, RETRY_BACKOFF, RETRY_BACKOFF_MAX, REPLY_TOPIC_PATTERN, SHUTDOWN_TIMEOUT);

    private final Map<ConfigKey<?>, Object> values;

    private WorkerConfig(Map<ConfigKey<?>, Object> values) {
        this.values = values;
        rejectContradictions();
    }

    /**
     * Builds the configuration from key names to values (strings, or values of the key's type).
     *
     * @throws ConfigException naming the key(s) at fault: an unknown key, a missing required key,
     *                         an invalid value, or a contradiction between keys
     */
    public static WorkerConfig from(Map<String, ?> raw) {
        Set<String> known = KEYS.stream().map(ConfigKey::name).collect(Collectors.toSet());
        Set<String> unknown = new TreeSet<>(raw.keySet());
        unknown.removeAll(known);
        if (!unknown.isEmpty()) {
            throw new ConfigException("unknown worker configuration key(s) " + unknown + "; known keys: " + new TreeSet<>(known));
        }
        Map<ConfigKey<?>, Object> values = new LinkedHashMap<>();
        for (ConfigKey<?> key : KEYS) values.put(key, key.resolve(raw));
        return new WorkerConfig(values);
    }

    /** A copy with some keys changed. */
    public WorkerConfig with(Map<String, ?> changes) {
        Map<String, Object> raw = new HashMap<>();
        values.forEach((k, v) -> raw.put(k.name(), v));
        raw.putAll(changes);
        return from(raw);
    }

    private void rejectContradictions() {
        if (maxBatchSize() > maxPollRecords()) {
            throw new ConfigException(MAX_BATCH_SIZE.name() + " (" + maxBatchSize() + ") is larger than "
                    + MAX_POLL_RECORDS.name() + " (" + maxPollRecords() + "): a batch could never fill; "
                    + "raise " + MAX_POLL_RECORDS.name() + " or lower " + MAX_BATCH_SIZE.name());
        }
        if (retryBackoff().compareTo(retryBackoffMax()) > 0) {
            throw new ConfigException(RETRY_BACKOFF.name() + " (" + retryBackoff().toMillis() + ") is larger than its cap "
                    + RETRY_BACKOFF_MAX.name() + " (" + retryBackoffMax().toMillis() + ")");
        }
        if (watchdogEnabled() && watchdogMaxOpen().compareTo(transactionTimeout()) <= 0) {
            throw new ConfigException(WATCHDOG_MAX_OPEN.name() + " (" + watchdogMaxOpen().toMillis() + ") is not longer than "
                    + TRANSACTION_TIMEOUT.name() + " (" + transactionTimeout().toMillis() + "): the watchdog would abort a slow but live "
                    + "transaction before its own coordinator does; raise " + WATCHDOG_MAX_OPEN.name() + " or set it to 0 to disable the watchdog");
        }
        if (!simulated()) {
            if (modelDir() == null) throw new ConfigException(MODEL_DIR.name() + " is required with " + ENGINE.name() + "=onnx: " + MODEL_DIR.doc());
            if (adapterDir() == null) throw new ConfigException(ADAPTER_DIR.name() + " is required with " + ENGINE.name() + "=onnx: " + ADAPTER_DIR.doc());
        }
        if (modelDir() != null && adapterDir() != null && modelDir().toAbsolutePath().normalize().equals(adapterDir().toAbsolutePath().normalize())) {
            throw new ConfigException(MODEL_DIR.name() + " and " + ADAPTER_DIR.name() + " are the same directory ("
                    + modelDir() + "): adapters live in their own directory, one folder each");
        }
    }

    @SuppressWarnings("unchecked")
    private <T> T get(ConfigKey<T> key) { return (T) values.get(key); }

    public String bootstrapServers() { return get(BOOTSTRAP_SERVERS); }

    public String schemaRegistryUrl() { return get(SCHEMA_REGISTRY_URL); }

    public String groupId() { return get(GROUP_ID); }

    public String workerId() { return get(WORKER_ID); }

    /**
     * The producer's transactional id, derived from group and worker id: the same after a restart,
     * so a restarted worker fences the transactions of its predecessor (a zombie).
     */
    public String transactionalId() { return groupId() + "." + workerId(); }

    public int maxBatchSize() { return get(MAX_BATCH_SIZE); }

    public int maxPollRecords() { return get(MAX_POLL_RECORDS); }

    public Duration pollTimeout() { return get(POLL_TIMEOUT); }

    public Duration heartbeatInterval() { return get(HEARTBEAT_INTERVAL); }

    public Duration sessionTimeout() { return get(SESSION_TIMEOUT); }

    public Duration transactionTimeout() { return get(TRANSACTION_TIMEOUT); }

    /** The group instance id (static membership: the worker id, made a legal one), or null for dynamic membership. */
    public String groupInstanceId() {
        return get(GROUP_MEMBERSHIP).equals("static") ? dev.lorastream.schemas.ops.GroupMembership.legal(workerId()) : null;
    }

    /** Whether a closing worker leaves its group (its partitions handed over at once) rather than keep them until the session times out. */
    public boolean leaveGroupOnClose() { return get(LEAVE_GROUP_ON_CLOSE).equals("true"); }

    /** Whether the transaction watchdog runs (neither of its durations is 0). */
    public boolean watchdogEnabled() { return !watchdogInterval().isZero() && !watchdogMaxOpen().isZero(); }

    public Duration watchdogInterval() { return get(WATCHDOG_INTERVAL); }

    public Duration watchdogMaxOpen() { return get(WATCHDOG_MAX_OPEN); }

    /** Whether the worker runs the simulated engine ({@code engine=sim}). */
    public boolean simulated() { return get(ENGINE).equals("sim"); }

    /** The simulated engine's settings: the H200 cost model, the adapters, tiers, rows (max.batch.size) and time scale. */
    public dev.lorastream.engine.sim.SimConfig simConfig() {
        return dev.lorastream.engine.sim.SimConfig.h200(get(SIM_ADAPTERS), get(SIM_ADAPTER_FORMAT)).withMaxRows(maxBatchSize())
                .withTiers(get(SIM_DEVICE_SLOTS), get(SIM_HOST_SLOTS)).withTimeScale(get(SIM_TIME_SCALE));
    }

    public Path modelDir() { return get(MODEL_DIR); }

    public Path adapterDir() { return get(ADAPTER_DIR); }

    /** "cpu" or "cuda". */
    public String executionProvider() { return get(EXECUTION_PROVIDER); }

    /** The engine's settings from this configuration. */
    public EngineConfig engineConfig() {
        String precision = get(PRECISION).equals("auto") ? (executionProvider().equals("cuda") ? "fp16" : "fp32") : get(PRECISION);
        String targets = get(BANK_TARGETS);
        return new EngineConfig(modelDir(), adapterDir(), executionProvider(), maxBatchSize())
                .withPrecision(precision).withTf32(get(TF32).equals("on")).withGraph(get(GRAPH)).withKvCapacity(get(KV_CAPACITY))
                .withCudaGraphs(get(CUDA_GRAPHS).equals("on"))
                .withBank(get(BANK_RANK), targets.isEmpty() ? List.of() : List.of(targets.split(",")));
    }

    /** The adapter cache's tiers (capacities are checked against the backbone when the engine opens). */
    public CacheConfig cacheConfig() {
        return new CacheConfig(get(ADAPTER_DEVICE_BYTES), get(ADAPTER_HOST_BYTES), get(ADAPTER_EVICTION_POLICY));
    }

    public int engineMaxAttempts() { return get(ENGINE_MAX_ATTEMPTS); }

    public Duration retryBackoff() { return get(RETRY_BACKOFF); }

    public Duration retryBackoffMax() { return get(RETRY_BACKOFF_MAX); }

    public Duration shutdownTimeout() { return get(SHUTDOWN_TIMEOUT); }

    public Pattern replyTopicPattern() { return Pattern.compile(get(REPLY_TOPIC_PATTERN)); }

    /** The default of the key named {@code name} as text ({@link ConfigKey#defaultText}); null for an unknown key or an empty default. */
    public static String defaultOf(String name) {
        for (ConfigKey<?> key : KEYS) {
            if (key.name().equals(name)) {
                String text = key.defaultText();
                return text == null || text.isEmpty() ? null : text;
            }
        }
        return null;
    }

    /** The keys with their types, defaults and docs, one per line. */
    public static String help() {
        return KEYS.stream().map(ConfigKey::describe).collect(Collectors.joining("\n"));
    }

    @Override
    public String toString() {
        return values.entrySet().stream()
                .map(e -> e.getKey().name() + "=" + (e.getValue() instanceof Duration d ? d.toMillis() : e.getValue()))
                .collect(Collectors.joining(", ", "WorkerConfig{", "}"));
    }

    private static String hostPid() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "localhost";
        }
        return host.replaceAll("[^A-Za-z0-9._:-]", "_") + "-" + ProcessHandle.current().pid();
    }
}
