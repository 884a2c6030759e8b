package dev.lorastream.schemas.ops;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How the pipeline's group members (workers, router, sinks) join their consumer groups so that a fault heals
 * fast and a restart costs nothing:
 * <ul>
 * <li><b>static membership</b> ({@code group.instance.id}, from each component's stable id): a member that
 * restarts with the same id within the session timeout gets its partitions back without a rebalance, and
 * nobody else's work moves meanwhile;</li>
 * <li>a <b>short session timeout</b> ({@link #DEFAULT_SESSION_TIMEOUT}, heartbeats every quarter of it): a
 * member that crashed is dropped after it, and its partitions are served elsewhere within about 10 s (the
 * broker's {@code group.min.session.timeout.ms}, 6 s by default, bounds it below);</li>
 * <li>the <b>cooperative-sticky assignor</b> for plain consumers: a rebalance moves only the partitions that
 * change owner, the others keep being served (Kafka Streams has its own assignor, also cooperative);</li>
 * <li><b>leaving on close</b> ({@link #closeOptions}): a static member that closes does not leave its group by
 * itself (Kafka keeps it until the session timeout, for its restart); a component that is stopped on purpose
 * (scaled down, redeployed elsewhere) leaves, so its partitions are handed over at once. Set it to stay for
 * rolling restarts in place.</li>
 * </ul>
 */
public final class GroupMembership {
    private static final Logger log = LoggerFactory.getLogger(GroupMembership.class);
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofMillis(7_000);
    /** The instance id that asks for dynamic membership. */
    public static final String DYNAMIC = "none";
    private static final int MAX_ID_LENGTH = 200;

    private GroupMembership() {}

    /** Heartbeats every quarter of the session timeout (and at most one every 100 ms). */
    public static Duration heartbeatInterval(Duration sessionTimeout) {
        return Duration.ofMillis(Math.max(100, sessionTimeout.toMillis() / 4));
    }

    /**
     * Settings of a plain consumer in a group: session timeout and heartbeat, the cooperative-sticky assignor and,
     * when {@code instanceId} is not null, static membership under it (made a legal group instance id).
     */
    public static Map<String, Object> consumer(String instanceId, Duration sessionTimeout) {
        Map<String, Object> p = streams(instanceId, sessionTimeout);
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        return p;
    }

    /** The same for Kafka Streams (which keeps its own assignor and appends each stream thread's index to the instance id). */
    public static Map<String, Object> streams(String instanceId, Duration sessionTimeout) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) sessionTimeout.toMillis());
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) heartbeatInterval(sessionTimeout).toMillis());
        if (instanceId != null) p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, legal(instanceId));
        return p;
    }

    /** How a consumer closes: leaving its group (its partitions are handed over at once) or staying in it until the session timeout. */
    public static CloseOptions closeOptions(boolean leaveGroup) {
        return CloseOptions.groupMembershipOperation(leaveGroup ? CloseOptions.GroupMembershipOperation.LEAVE_GROUP
                : CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP);
    }

    /**
     * A component's group instance id, held while the component runs ({@link #close()} releases it); null means
     * dynamic membership.
     */
    public record Claim(String instanceId, AutoCloseable lock) implements AutoCloseable {
        public static Claim dynamic() { return new Claim(null, () -> { }); }

        @Override
        public void close() {
            try {
                lock.close();
            } catch (Exception e) {
                log.debug("releasing the group instance id {}: {}", instanceId, e.toString());
            }
        }
    }

    /**
     * The group instance id of a component from its configured value: {@value #DYNAMIC} means dynamic membership;
     * any other non-blank value is the id; null or blank means derived: the host name and a short hash of
     * {@code lockFile}'s path, a file in the directory of the component's local state (the router's state directory,
     * the sink's data directory), so that the id is the same after a restart and differs between two instances on
     * one host. A derived id is claimed with an exclusive lock on that file, so two instances on one host that share
     * the directory never share an id (two static members with one id fence each other): the one that cannot lock
     * it, or any component when the host name is unknown, stays dynamic.
     */
    public static Claim claim(String configured, Path lockFile) {
        if (configured != null && !configured.isBlank()) {
            return configured.trim().equalsIgnoreCase(DYNAMIC) ? Claim.dynamic() : new Claim(legal(configured.trim()), () -> { });
        }
        String host = hostName();
        if (host == null || lockFile == null) return Claim.dynamic();
        Path file = lockFile.toAbsolutePath().normalize();
        String id = legal(host + "-" + shortHash(file.toString()));
        FileChannel channel = null;
        try {
            Files.createDirectories(file.getParent());
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock == null) {
                channel.close();
                log.info("group instance id {} is held by another instance on this host ({}): this one is a dynamic member", id, file);
                return Claim.dynamic();
            }
            FileChannel held = channel;
            return new Claim(id, () -> {
                lock.release();
                held.close();
            });
        } catch (IOException | OverlappingFileLockException e) {
            try {
                if (channel != null) channel.close();
            } catch (IOException ignored) {
                // closing after a failed lock
            }
            log.info("group instance id {} cannot be claimed ({}): this instance is a dynamic member", id, e.toString());
            return Claim.dynamic();
        }
    }

    /** {@code id} with the characters a group instance id may not have ({@code [a-zA-Z0-9._-]} only) replaced by '_', at most 200 long. */
    public static String legal(String id) {
        String s = id.replaceAll("[^a-zA-Z0-9._-]", "_");
        return s.length() <= MAX_ID_LENGTH ? s : s.substring(0, MAX_ID_LENGTH - 9) + "-" + shortHash(s);
    }

    private static String hostName() {
        try {
            String host = InetAddress.getLocalHost().getHostName();
            return host == null || host.isBlank() ? null : host;
        } catch (UnknownHostException | SecurityException e) {
            return null;
        }
    }

    private static String shortHash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
