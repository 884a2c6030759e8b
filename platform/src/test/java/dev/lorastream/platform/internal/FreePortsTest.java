package dev.lorastream.platform.internal;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

import static org.assertj.core.api.Assertions.assertThat;

class FreePortsTest {

    @Test
    void aRequestedPortIsKeptAsIs() {
        assertThat(FreePorts.choose(4242, 5555)).isEqualTo(4242);
    }

    @Test
    void aRememberedFreePortIsReused() {
        int remembered = FreePorts.pick();

        assertThat(FreePorts.choose(0, remembered)).isEqualTo(remembered);
    }

    @Test
    void aRememberedPortInUseIsReplaced() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));

            int chosen = FreePorts.choose(0, taken.getLocalPort());

            assertThat(chosen).isNotEqualTo(taken.getLocalPort()).isPositive();
            assertThat(FreePorts.isFree(taken.getLocalPort())).isFalse();
        }
    }
}
