package dev.lorastream.platform.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Free TCP ports on the loopback address. */
public final class FreePorts {
    private FreePorts() {}

    /** A port that was free a moment ago (the OS chooses it). */
    public static int pick() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
        }
    }

    /** Whether a port can be bound on 127.0.0.1 now. */
    public static boolean isFree(int port) {
        if (port <= 0 || port > 65535) return false;
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * The port to use: {@code requested} when it is not 0; else {@code remembered} when it is
     * still free (so a restarted service keeps its address); else a newly chosen one.
     */
    public static int choose(int requested, int remembered) {
        if (requested != 0) return requested;
        if (remembered > 0 && isFree(remembered)) return remembered;
        return pick();
    }
}
