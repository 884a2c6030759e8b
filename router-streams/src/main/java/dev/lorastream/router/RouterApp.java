package dev.lorastream.router;

import dev.lorastream.schemas.config.KafkaClientSettings;
import dev.lorastream.router.internal.ByIdTopic;
import dev.lorastream.router.internal.DeadLetterExceptionHandler;
import dev.lorastream.router.internal.ThreadReplacementPolicy;
import dev.lorastream.router.placement.FleetListener;
import dev.lorastream.router.placement.FleetTable;
import dev.lorastream.router.placement.LoadAwarePlacement;
import dev.lorastream.router.placement.PlacementMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import dev.lorastream.schemas.ops.GroupMembership;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import org.apache.kafka.streams.CloseOptions;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.lorastream.schemas.registry.RememberingSchemaRegistryClient;
import dev.lorastream.schemas.registry.SchemaRegistryClient;
import dev.lorastream.schemas.topic.TopicDirectory;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The router as a running Kafka Streams application, with its placement: load-aware by default
 * (a {@link FleetTable} fed from workers.status by a {@link FleetListener}), or by hash.
 * {@link #start()} reads the recent heartbeats, then returns once the streams client is RUNNING
 * (or throws if it fails or does not get there within {@link RouterConfig#START_TIMEOUT_MS});
 * {@link #close()} stops both. Before starting it makes sure {@code inference.requests.by-id} has as many partitions as
 * inference.requests (creating it when missing). Its meters are in {@link #meters()} (Prometheus text: {@link #prometheusText()}).
 */
public final class RouterApp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RouterApp.class);

    private final RouterConfig config;
    private final KafkaStreams streams;
    private final TopicDirectory topics;
    private final CompletableFuture<Void> running = new CompletableFuture<>();
    private final CompletableFuture<KafkaStreams.State> terminated = new CompletableFuture<>();
    private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final FleetListener fleet;
    private final PlacementStrategy placement;
    /** The group instance id of this router's stream threads (null: dynamic), held until close. */
    private final GroupMembership.Claim membership;

    public RouterApp(RouterConfig config) {
        this(config, RememberingSchemaRegistryClient.connect(config.schemaRegistryUrl()));
    }

    /** With the placement {@link RouterConfig#PLACEMENT} names. */
    public RouterApp(RouterConfig config, SchemaRegistryClient registry) {
        this(config, registry, null);
    }

    /** @param placement the placement to use, or null for the one {@link RouterConfig#PLACEMENT} names */
    public RouterApp(RouterConfig config, SchemaRegistryClient registry, PlacementStrategy placement) {
        this.config = config;
        if (placement == null && config.loadAwarePlacement()) {
            FleetTable table = new FleetTable(config.workerTimeout(), Clock.systemUTC());
            this.fleet = new FleetListener(config.bootstrapServers(), config.applicationId() + "-fleet", registry, table, Clock.systemUTC());
            placement = new LoadAwarePlacement(table, config.busyAt(), new PlacementMetrics(meters));
        } else {
            this.fleet = null;
            if (placement == null) placement = new HashPlacement();
        }
        this.placement = placement;
        this.topics = TopicDirectory.of(config.bootstrapServers(), config.applicationId() + "-topics");
        Topology topology = RouterTopology.buildTopology(config, registry, placement, topics);
        this.membership = GroupMembership.claim(config.configuredInstanceId(), config.instanceLockFile());
        Properties props = config.toStreamsProperties(membership.instanceId());
        props.put(DeadLetterExceptionHandler.REGISTRY_CLIENT_CONFIG, registry);
        try {
            this.streams = new KafkaStreams(topology, KafkaClientSettings.apply(props));
        } catch (RuntimeException e) {
            membership.close();
            throw e;
        }
        streams.setUncaughtExceptionHandler(
                new ThreadReplacementPolicy(config.maxThreadReplacements(), Duration.ofMinutes(1), Clock.systemUTC()));
        streams.setStateListener((now, before) -> {
            LOG.info("router {} state {} -> {}", config.applicationId(), before, now);
            if (now == KafkaStreams.State.RUNNING) running.complete(null);
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.PENDING_SHUTDOWN || now == KafkaStreams.State.NOT_RUNNING) {
                running.completeExceptionally(new IllegalStateException("router " + config.applicationId() + " went to " + now
                        + " before it was running"));
            }
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) terminated.complete(now);
        });
    }

    /** Starts the streams client and waits until it is RUNNING. */
    public void start() {
        LOG.info("starting router {} on {} (registry {}, {} thread(s), {}, placement {}, {})", config.applicationId(), config.bootstrapServers(),
                config.schemaRegistryUrl(), config.numStreamThreads(), config.processingGuarantee(), placement,
                membership.instanceId() == null ? "dynamic group membership" : "static group member " + membership.instanceId() + "-<thread>");
        ByIdTopic.ensure(config.bootstrapServers(), config.applicationId() + "-by-id");
        if (fleet != null) fleet.start(config.workerTimeout());
        streams.start();
        Duration timeout = config.startTimeout();
        try {
            running.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("router " + config.applicationId() + " did not reach RUNNING within " + timeout
                    + " (state " + streams.state() + "); is " + config.bootstrapServers() + " reachable and does the topic exist?", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted starting router " + config.applicationId(), e);
        }
    }

    public KafkaStreams.State state() { return streams.state(); }

    public PlacementStrategy placement() { return placement; }

    /** The router's meters (placement decisions by reason, live workers). */
    public MeterRegistry meters() { return meters; }

    /** {@link #meters()} in the Prometheus text format. */
    public String prometheusText() { return meters.scrape(); }

    /** Blocks until the router has stopped, by {@link #close()} (NOT_RUNNING) or by a failure (ERROR), and returns that state. */
    public KafkaStreams.State awaitTermination() throws InterruptedException {
        try {
            return terminated.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public void close() {
        // a static member that closes stays in the group until its session times out: a router stopped on purpose leaves
        CloseOptions options = CloseOptions.timeout(config.closeTimeout()).withGroupMembershipOperation(config.leaveGroupOnClose()
                ? CloseOptions.GroupMembershipOperation.LEAVE_GROUP : CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP);
        if (!streams.close(options)) {
            LOG.warn("router {} did not stop within {}", config.applicationId(), config.closeTimeout());
        }
        membership.close();
        topics.close();
        if (fleet != null) fleet.close();
        meters.close();
    }
}
