package dev.lorastream.ingest.http;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Real sockets on the loopback and the kernel's own socket tables. */
class ConnectionWatchTest {
    private final ConnectionWatch watch = new ConnectionWatch(ConnectionWatch.LINUX_TABLES, Duration.ZERO);

    @BeforeEach
    void linux() {
        Assumptions.assumeTrue(watch.supported(), "the kernel's socket tables are Linux's; elsewhere the watch reports nothing");
    }

    @Test
    void aClientThatClosesItsConnectionIsReportedOnceAndAnOpenOneIsNot() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket leaving = new Socket(server.getInetAddress(), server.getLocalPort()); Socket leavingEnd = server.accept();
             Socket staying = new Socket(server.getInetAddress(), server.getLocalPort()); Socket stayingEnd = server.accept()) {
            AtomicInteger left = new AtomicInteger(), stayed = new AtomicInteger();
            watch.watch(local(leavingEnd), remote(leavingEnd), left::incrementAndGet);
            watch.watch(local(stayingEnd), remote(stayingEnd), stayed::incrementAndGet);
            watch.scan();
            assertThat(left).hasValue(0);

            leaving.close(); // FIN: the server's end goes to CLOSE_WAIT
            awaitScans(() -> left.get() == 1);
            watch.scan();
            assertThat(left).as("reported once").hasValue(1);
            assertThat(stayed).as("an open connection is not reported").hasValue(0);
        }
    }

    @Test
    void aClientThatResetsItsConnectionIsReported() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(server.getInetAddress(), server.getLocalPort()); Socket end = server.accept()) {
            AtomicInteger left = new AtomicInteger();
            watch.watch(local(end), remote(end), left::incrementAndGet);
            watch.scan();
            client.setSoLinger(true, 0);
            client.close(); // RST
            awaitScans(() -> left.get() == 1);
        }
    }

    @Test
    void aClosedHandleAndAConnectionNeverSeenAreNotReported() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(server.getInetAddress(), server.getLocalPort()); Socket end = server.accept()) {
            AtomicInteger closedHandle = new AtomicInteger(), unknown = new AtomicInteger();
            ConnectionWatch.Handle h = watch.watch(local(end), remote(end), closedHandle::incrementAndGet);
            watch.scan();
            h.close();
            watch.watch(new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), new InetSocketAddress(InetAddress.getLoopbackAddress(), 2),
                    unknown::incrementAndGet);
            client.close();
            for (int i = 0; i < 5; i++) {
                watch.scan();
                Thread.sleep(20);
            }
            assertThat(closedHandle).hasValue(0);
            assertThat(unknown).hasValue(0);
        }
    }

    @Test
    void tablesThatCannotBeReadMeanNothingIsWatched(@TempDir Path dir) {
        ConnectionWatch none = new ConnectionWatch(List.of(dir.resolve("missing")), Duration.ZERO);
        assertThat(none.supported()).isFalse();
    }

    @Test
    void addressesAreReadInHostByteOrderAndMappedIpv4ComesBackAsIpv4() throws Exception {
        Assumptions.assumeTrue(java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN, "the table's words are in host byte order");
        assertThat(ConnectionWatch.address("0100007F:1F90")).isEqualTo(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 8080));
        assertThat(ConnectionWatch.address("0000000000000000FFFF00000100007F:0050"))
                .isEqualTo(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 80));
        assertThat(ConnectionWatch.address("00000000000000000000000001000000:0016"))
                .isEqualTo(new InetSocketAddress(InetAddress.getByName("::1"), 22));
    }

    private void awaitScans(java.util.function.BooleanSupplier done) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            watch.scan();
            Thread.sleep(20);
        }
        assertThat(done.getAsBoolean()).as("reported within 5 s").isTrue();
    }

    private static InetSocketAddress local(Socket s) { return (InetSocketAddress) s.getLocalSocketAddress(); }

    private static InetSocketAddress remote(Socket s) { return (InetSocketAddress) s.getRemoteSocketAddress(); }
}
