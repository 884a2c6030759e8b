package dev.lorastream.platform;

import dev.lorastream.platform.internal.StateFile;
import dev.lorastream.schemas.topic.Groups;
import dev.lorastream.schemas.topic.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * SASL/SCRAM and ACLs for the embedded broker (issue 11: "nobody acts as someone else"). Clients authenticate with
 * SCRAM-SHA-256 on the broker's listener; the controller listener takes PLAIN from the broker itself (KRaft keeps SCRAM
 * credentials in the metadata log, which a controller cannot read before it starts). Kafka's StandardAuthorizer
 * refuses what no ACL allows. Three kinds of principal:
 * <ul>
 *   <li>{@code admin}: the broker itself and the platform's provisioning (super user);</li>
 *   <li>the components, each with only what it does ({@link #COMPONENTS}, ACLs made by
 *       {@link #provisionComponents}): {@code router} reads requests and writes routed requests, dead letters and
 *       error replies, with its Kafka Streams group, transactions and internal topics; {@code worker} reads routed
 *       requests and is the only principal that writes responses' answers, attribution and token streams, with its group
 *       and transactions, and its transaction watchdog's rights (read every pipeline topic and
 *       {@code __consumer_offsets}, describe transactional ids, abort transactions); {@code sink} reads attribution
 *       and writes dead letters; {@code http} writes requests, cancellations and dead letters and reads responses,
 *       token streams and the catalog. Each may describe every pipeline topic, so that starting up creates
 *       nothing;</li>
 *   <li>{@code pipeline}: a super user for a single process that runs every component ({@code ./pipeline up}-like
 *       set-ups, tools);</li>
 *   <li>callers ({@link #addCaller}): may write {@code inference.requests}, read their own reply topic
 *       {@code inference.responses.<name>} and the adapter catalog, and nothing else: not other callers' requests or
 *       answers, not responses, attribution or dead letters. A forged answer or billing row is refused by the broker.</li>
 * </ul>
 * Passwords are random, made once and kept in {@code credentials} under the folder (mode 600); each principal's
 * client settings are written there as {@code <name>.properties}, for {@code --kafka-config}.
 */
public final class ClusterSecurity {
    public static final String MECHANISM = "SCRAM-SHA-256";
    public static final String ADMIN = "admin";
    public static final String PIPELINE = "pipeline";
    private static final String CONTROLLER = "controller";
    public static final String ROUTER = "router";
    public static final String WORKER = "worker";
    public static final String SINK = "sink";
    public static final String HTTP = "http";
    /** The components' principals, each with its own password, client file and ACLs. */
    public static final List<String> COMPONENTS = List.of(ROUTER, WORKER, SINK, HTTP);
    /** What a caller's name may be: it becomes a Kafka principal and part of its reply topic's name. */
    private static final Pattern CALLER_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");

    private final Path dir;
    private final StateFile credentials;

    private ClusterSecurity(Path dir) {
        this.dir = dir.toAbsolutePath();
        this.credentials = StateFile.load(this.dir.resolve("credentials"));
    }

    /** The security of the folder {@code dir}: its passwords, made now when it has none. */
    public static ClusterSecurity in(Path dir) {
        ClusterSecurity s = new ClusterSecurity(dir);
        s.password(ADMIN);
        s.password(PIPELINE);
        s.password(CONTROLLER);
        s.save();
        COMPONENTS.forEach(s::password);
        s.save();
        s.writeClientFile(ADMIN);
        s.writeClientFile(PIPELINE);
        COMPONENTS.forEach(s::writeClientFile);
        return s;
    }

    public Path dir() { return dir; }

    /** The file of {@code principal}'s client settings ({@code --kafka-config}). */
    public Path clientFile(String principal) { return dir.resolve(principal + ".properties"); }

    /** The server properties that replace the PLAINTEXT listener's. */
    Map<String, String> serverProperties(int port, int controllerPort) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("listeners", "SASL_PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "SASL_PLAINTEXT://127.0.0.1:" + port);
        p.put("listener.security.protocol.map", "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT");
        p.put("inter.broker.listener.name", "SASL_PLAINTEXT");
        p.put("sasl.enabled.mechanisms", MECHANISM);
        p.put("sasl.mechanism.inter.broker.protocol", MECHANISM);
        p.put("listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config", scramJaas(ADMIN));
        p.put("sasl.mechanism.controller.protocol", "PLAIN");
        p.put("listener.name.controller.sasl.enabled.mechanisms", "PLAIN");
        p.put("listener.name.controller.plain.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required"
                + " username=\"" + CONTROLLER + "\" password=\"" + password(CONTROLLER) + "\" user_" + CONTROLLER + "=\"" + password(CONTROLLER) + "\";");
        p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        p.put("super.users", "User:" + ADMIN + ";User:" + PIPELINE + ";User:" + CONTROLLER);
        p.put("allow.everyone.if.no.acl.found", "false");
        return p;
    }

    /** {@code kafka-storage format} arguments that store the admin's and the pipeline's SCRAM credentials. */
    List<String> formatArguments() {
        List<String> args = new ArrayList<>();
        for (String user : List.of(ADMIN, PIPELINE)) {
            args.add("--add-scram");
            args.add(MECHANISM + "=[name=" + user + ",password=" + password(user) + "]");
        }
        return args;
    }

    /** The client settings of {@code principal}: SASL_PLAINTEXT, SCRAM-SHA-256, its name and password. */
    public Map<String, String> clientSettings(String principal) {
        return Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", MECHANISM, "sasl.jaas.config", scramJaas(principal));
    }

    /**
     * Makes {@code name} a caller of the cluster at {@code bootstrapServers} (idempotent): its SCRAM credential, its
     * reply topic {@code inference.responses.<name>}, and ACLs that let it write requests and read only that topic
     * and the adapter catalog. Returns its client settings file.
     */
    public Path addCaller(String bootstrapServers, String name) {
        checkCallerName(name);
        String password = password(name);
        save();
        String replyTopic = replyTopic(name);
        Map<String, Object> admin = new LinkedHashMap<>(clientSettings(ADMIN));
        admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        try (Admin a = Admin.create(admin)) {
            a.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(name,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192), password))).all().get(30, TimeUnit.SECONDS);
            try {
                a.createTopics(List.of(new NewTopic(replyTopic, java.util.Optional.empty(), java.util.Optional.empty()))).all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) throw e;
            }
            String principal = "User:" + name;
            a.createAcls(List.of(
                    allow(ResourceType.TOPIC, Topics.REQUESTS, principal, AclOperation.WRITE),
                    allow(ResourceType.TOPIC, Topics.REQUESTS, principal, AclOperation.DESCRIBE),
                    allow(ResourceType.TOPIC, replyTopic, principal, AclOperation.READ),
                    allow(ResourceType.TOPIC, replyTopic, principal, AclOperation.DESCRIBE),
                    allow(ResourceType.TOPIC, Topics.ADAPTER_CATALOG, principal, AclOperation.READ),
                    allow(ResourceType.TOPIC, Topics.ADAPTER_CATALOG, principal, AclOperation.DESCRIBE)))
                    .all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot add caller " + name + " at " + bootstrapServers + ": " + e.getCause(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot add caller " + name + " at " + bootstrapServers + ": no answer in 30 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted adding caller " + name, e);
        }
        return writeClientFile(name);
    }

    /**
     * Refuses a name that cannot be a caller's: it becomes a Kafka principal and part of its reply topic's name,
     * and the pipeline's own principals are not callers.
     */
    public static void checkCallerName(String name) {
        if (!CALLER_NAME.matcher(name).matches() || name.equals(ADMIN) || name.equals(PIPELINE) || name.equals(CONTROLLER)
                || COMPONENTS.contains(name)) {
            throw new IllegalArgumentException("caller name '" + name + "' must match " + CALLER_NAME.pattern()
                    + " and not be admin, pipeline, controller or a component (" + String.join(", ", COMPONENTS) + ")");
        }
    }

    /**
     * Gives each component principal ({@link #COMPONENTS}) its SCRAM credential and its ACLs at the cluster at
     * {@code admin} (idempotent; the broker does it on each start, so a folder made before these principals existed
     * gets them too).
     */
    void provisionComponents(Admin admin) throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
        List<org.apache.kafka.clients.admin.UserScramCredentialAlteration> credentials = new ArrayList<>();
        for (String c : COMPONENTS) {
            credentials.add(new UserScramCredentialUpsertion(c, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192), password(c)));
        }
        admin.alterUserScramCredentials(credentials).all().get(30, TimeUnit.SECONDS);
        List<AclBinding> acls = new ArrayList<>();
        COMPONENTS.forEach(c -> acls.addAll(componentAcls(c)));
        admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
    }

    /** What component {@code name} may do: one ACL per resource and operation (see the class comment). */
    static List<AclBinding> componentAcls(String name) {
        String p = "User:" + name;
        List<AclBinding> acls = new ArrayList<>();
        for (String topic : Topics.VALUE_SCHEMAS.keySet()) acls.add(allow(ResourceType.TOPIC, topic, p, AclOperation.DESCRIBE));
        java.util.function.BiConsumer<String, AclOperation> topic = (t, op) -> acls.add(allow(ResourceType.TOPIC, t, p, op));
        switch (name) {
            case ROUTER -> {
                topic.accept(Topics.REQUESTS, AclOperation.READ);
                topic.accept(Topics.REQUESTS_BY_ID, AclOperation.READ);
                topic.accept(Topics.REQUESTS_BY_ID, AclOperation.WRITE);
                topic.accept(Topics.ROUTED, AclOperation.WRITE);
                topic.accept(Topics.DLQ, AclOperation.WRITE);
                topic.accept(Topics.WORKER_STATUS, AclOperation.READ);
                // error replies go to the request's reply_topic (router.reply.topic.pattern, inference.responses*)
                acls.add(prefixed(ResourceType.TOPIC, Topics.RESPONSES, p, AclOperation.WRITE));
                acls.add(prefixed(ResourceType.TOPIC, Topics.RESPONSES, p, AclOperation.DESCRIBE));
                // Kafka Streams: its group, its transactional ids and its internal topics all start with the application id
                acls.add(prefixed(ResourceType.TOPIC, Groups.ROUTER, p, AclOperation.ALL));
                acls.add(prefixed(ResourceType.GROUP, Groups.ROUTER, p, AclOperation.ALL));
                acls.add(prefixed(ResourceType.TRANSACTIONAL_ID, Groups.ROUTER, p, AclOperation.WRITE));
                acls.add(prefixed(ResourceType.TRANSACTIONAL_ID, Groups.ROUTER, p, AclOperation.DESCRIBE));
            }
            case WORKER -> {
                topic.accept(Topics.ROUTED, AclOperation.READ);
                acls.add(prefixed(ResourceType.TOPIC, Topics.RESPONSES, p, AclOperation.WRITE));
                acls.add(prefixed(ResourceType.TOPIC, Topics.RESPONSES, p, AclOperation.DESCRIBE));
                for (String t : List.of(Topics.ATTRIBUTION, Topics.DLQ, Topics.WORKER_STATUS, Topics.STREAM, Topics.ADAPTER_CATALOG)) {
                    topic.accept(t, AclOperation.WRITE);
                }
                acls.add(prefixed(ResourceType.GROUP, Groups.WORKERS, p, AclOperation.READ));
                acls.add(prefixed(ResourceType.GROUP, Groups.WORKERS, p, AclOperation.DESCRIBE));
                acls.add(prefixed(ResourceType.TRANSACTIONAL_ID, Groups.WORKERS, p, AclOperation.WRITE));
                acls.add(prefixed(ResourceType.TRANSACTIONAL_ID, Groups.WORKERS, p, AclOperation.DESCRIBE));
                // the transaction watchdog: the producers of every pipeline topic and of the groups' offsets, whose
                // transactional ids they are, and aborting what hangs
                for (String t : Topics.VALUE_SCHEMAS.keySet()) topic.accept(t, AclOperation.READ);
                topic.accept("__consumer_offsets", AclOperation.READ);
                topic.accept("__consumer_offsets", AclOperation.DESCRIBE);
                for (String prefix : dev.lorastream.schemas.ops.TransactionWatchdog.PIPELINE_PREFIXES) { // reply topics, the router's changelog
                    acls.add(prefixed(ResourceType.TOPIC, prefix, p, AclOperation.READ));
                    acls.add(prefixed(ResourceType.TOPIC, prefix, p, AclOperation.DESCRIBE));
                }
                acls.add(allow(ResourceType.TRANSACTIONAL_ID, "*", p, AclOperation.DESCRIBE));
                acls.add(allow(ResourceType.CLUSTER, "kafka-cluster", p, AclOperation.ALTER));
                acls.add(allow(ResourceType.CLUSTER, "kafka-cluster", p, AclOperation.CLUSTER_ACTION));
            }
            case SINK -> {
                topic.accept(Topics.ATTRIBUTION, AclOperation.READ);
                topic.accept(Topics.DLQ, AclOperation.WRITE);
                acls.add(prefixed(ResourceType.GROUP, Groups.SINK, p, AclOperation.READ));
                acls.add(prefixed(ResourceType.GROUP, Groups.SINK, p, AclOperation.DESCRIBE));
            }
            case HTTP -> {
                // adapters.catalog: POST /v1/load_lora_adapter with --model and --adapters (keys marked admin) publishes there
                for (String t : List.of(Topics.REQUESTS, Topics.CANCELS, Topics.DLQ, Topics.ADAPTER_CATALOG)) topic.accept(t, AclOperation.WRITE);
                for (String t : List.of(Topics.RESPONSES, Topics.STREAM, Topics.ADAPTER_CATALOG)) topic.accept(t, AclOperation.READ);
            }
            default -> throw new IllegalArgumentException("not a component: " + name);
        }
        return acls;
    }

    /** The one topic a caller named {@code name} may read its answers from. */
    public static String replyTopic(String name) { return Topics.RESPONSES + "." + name; }

    private static AclBinding prefixed(ResourceType type, String prefix, String principal, AclOperation operation) {
        return new AclBinding(new ResourcePattern(type, prefix, PatternType.PREFIXED),
                new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW));
    }

    private static AclBinding allow(ResourceType type, String name, String principal, AclOperation operation) {
        return new AclBinding(new ResourcePattern(type, name, PatternType.LITERAL),
                new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW));
    }

    private String scramJaas(String principal) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + principal
                + "\" password=\"" + password(principal) + "\";";
    }

    private synchronized String password(String principal) {
        String key = "password." + principal;
        String known = credentials.get(key);
        if (known != null) return known;
        byte[] random = new byte[18];
        new SecureRandom().nextBytes(random);
        String made = HexFormat.of().formatHex(random);
        credentials.set(key, made);
        return made;
    }

    private synchronized void save() {
        credentials.save("SCRAM passwords of the embedded broker's principals: keep private");
        restrict(dir.resolve("credentials"));
    }

    private Path writeClientFile(String principal) {
        Path file = clientFile(principal);
        Properties p = new Properties();
        p.putAll(clientSettings(principal));
        try {
            Files.createDirectories(dir);
            try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                p.store(out, "Kafka client settings of " + principal + " (--kafka-config " + file + ")");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        restrict(file);
        return file;
    }

    private static void restrict(Path file) {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: the folder's own permissions are what protect it
        }
    }
}
