package dev.lorastream.ingest.http;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Notices HTTP clients that go away while their non-streaming request is generated. The JDK HTTP server reads nothing
 * from a connection while its handler runs, so a client's close is not seen until the answer is written; the kernel
 * sees it: a peer that closed its end leaves ours in CLOSE_WAIT, and a reset takes the socket out of the table. Every
 * interval, while some exchange is watched, the kernel's socket tables ({@code /proc/net/tcp} and {@code tcp6}) are
 * read once for all of them. A connection is gone when it is found in CLOSE_WAIT or CLOSE, or is missing from two scans
 * in a row after it was found once; a connection never found is never reported (where the tables cannot be read, not
 * Linux, nothing is: {@link #supported()} says so).
 */
final class ConnectionWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConnectionWatch.class);
    static final Duration DEFAULT_INTERVAL = Duration.ofMillis(200);
    static final List<Path> LINUX_TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));
    /** The kernel's TCP states (include/net/tcp_states.h) that mean the peer has closed or reset the connection. */
    private static final int CLOSE = 0x07, CLOSE_WAIT = 0x08;

    /** One watched exchange: ended with {@link #close()} once its answer is ready. */
    interface Handle extends AutoCloseable {
        @Override
        void close();
    }

    private record Connection(InetSocketAddress local, InetSocketAddress remote) {}

    private final class Watched implements Handle {
        final Connection connection;
        final Runnable onGone;
        boolean seen;
        int missing;

        Watched(Connection connection, Runnable onGone) {
            this.connection = connection;
            this.onGone = onGone;
        }

        @Override
        public void close() { watched.remove(this); }
    }

    private final List<Path> tables;
    private final Set<Watched> watched = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService timer;

    /** Watches through the given socket tables every {@code interval} (a zero interval: only {@link #scan()} looks). */
    ConnectionWatch(List<Path> tables, Duration interval) {
        this.tables = tables.stream().filter(Files::isReadable).toList();
        if (interval.isZero() || this.tables.isEmpty()) {
            timer = null;
        } else {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "lorastream-http-connections");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleWithFixedDelay(this::scanQuietly, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The Linux tables, every {@link #DEFAULT_INTERVAL}. */
    static ConnectionWatch system() { return new ConnectionWatch(LINUX_TABLES, DEFAULT_INTERVAL); }

    /** Whether this machine's socket tables can be read: without them no client's departure is noticed. */
    boolean supported() { return !tables.isEmpty(); }

    /** Runs {@code onGone} once, from the watch's thread, if the client of {@code local}/{@code remote} goes away before the handle closes. */
    Handle watch(InetSocketAddress local, InetSocketAddress remote, Runnable onGone) {
        Watched w = new Watched(new Connection(local, remote), onGone);
        if (supported() && local != null && remote != null) watched.add(w);
        return w;
    }

    /** Reads the tables once and reports the connections found gone. */
    void scan() throws IOException {
        if (watched.isEmpty()) return;
        Map<Connection, Integer> states = new HashMap<>();
        for (Path table : tables) read(table, states);
        for (Watched w : watched) {
            Integer state = states.get(w.connection);
            boolean gone;
            if (state == null) {
                gone = w.seen && ++w.missing >= 2;
            } else {
                w.seen = true;
                w.missing = 0;
                gone = state == CLOSE_WAIT || state == CLOSE;
            }
            if (gone && watched.remove(w)) {
                try {
                    w.onGone.run();
                } catch (RuntimeException e) {
                    log.warn("reacting to the departure of {} failed: {}", w.connection.remote(), e.toString());
                }
            }
        }
    }

    private void scanQuietly() {
        try {
            scan();
        } catch (IOException | RuntimeException e) {
            log.debug("reading the socket tables failed: {}", e.toString());
        }
    }

    /** Lines of {@code sl local_address rem_address st ...}: addresses as hex words in host byte order, ports and state in hex. */
    private static void read(Path table, Map<Connection, Integer> into) throws IOException {
        List<String> lines = Files.readAllLines(table);
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).trim().split("\\s+");
            if (f.length < 4) continue;
            try {
                into.put(new Connection(address(f[1]), address(f[2])), Integer.parseInt(f[3], 16));
            } catch (IllegalArgumentException | UnknownHostException e) {
                // a line this reader does not understand is not a connection it watches
            }
        }
    }

    static InetSocketAddress address(String hexAddressAndPort) throws UnknownHostException {
        int colon = hexAddressAndPort.indexOf(':');
        String hex = hexAddressAndPort.substring(0, colon);
        if (hex.length() != 8 && hex.length() != 32) throw new IllegalArgumentException("not an address: " + hexAddressAndPort);
        ByteBuffer bytes = ByteBuffer.allocate(hex.length() / 2).order(ByteOrder.nativeOrder());
        for (int w = 0; w < hex.length(); w += 8) bytes.putInt(Integer.parseUnsignedInt(hex, w, w + 8, 16));
        // an IPv4-mapped IPv6 address comes back as the IPv4 address, as Java reports such a peer
        return new InetSocketAddress(InetAddress.getByAddress(bytes.array()), Integer.parseInt(hexAddressAndPort.substring(colon + 1), 16));
    }

    @Override
    public void close() {
        watched.clear();
        if (timer != null) timer.shutdownNow();
    }
}
