package dev.lorastream.bench.faults;

import dev.lorastream.platform.ApicurioRegistry;
import dev.lorastream.platform.ClusterSecurity;
import dev.lorastream.platform.EmbeddedKafkaBroker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The broker or the registry alone in a JVM of its own, so that the fault matrix can kill one
 * without the other: {@code broker DIR PORT [SECURITY_DIR]} (SASL/SCRAM and ACLs with the credentials of that folder) or {@code registry DIR PORT MANAGEMENT_PORT}. Runs until killed.
 */
public final class PlatformPart {
    private PlatformPart() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        int port = Integer.parseInt(args[2]);
        AutoCloseable part = switch (args[0]) {
            case "broker" -> new EmbeddedKafkaBroker(dir, port, 4, Map.of(
                    // a stable single-node cluster: the defaults of BrokerConfig plus quick group joins
                    "group.initial.rebalance.delay.ms", "0"), args.length > 3 ? ClusterSecurity.in(Path.of(args[3])) : null).start();
            case "registry" -> new ApicurioRegistry(dir, null, port, Integer.parseInt(args[3]), Duration.ofSeconds(180)).start();
            default -> throw new IllegalArgumentException("broker or registry, not " + args[0]);
        };
        System.out.println(args[0] + " ready on " + port);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                part.close();
            } catch (Exception e) {
                System.err.println("closing " + args[0] + ": " + e);
            }
        }));
        Thread.currentThread().join();
    }
}
