package dev.lorastream.engine.runtime;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class PinnedPoolTest {
    private final AtomicLong next = new AtomicLong(0x1000);
    private final List<Long> freed = new ArrayList<>();

    private PinnedPool pool(long cap) {
        return new PinnedPool(bytes -> next.getAndAdd(bytes), freed::add, cap);
    }

    @Test
    void aReturnedBufferIsHandedOutAgainForTheSameSize() {
        PinnedPool pool = pool(1 << 20);
        long a = pool.takeAddress(4096);
        pool.give(4096, a);

        assertThat(pool.takeAddress(8192)).as("another size: a new allocation").isNotEqualTo(a);
        assertThat(pool.takeAddress(4096)).isEqualTo(a);
        assertThat(pool.allocations()).isEqualTo(2);
        assertThat(pool.reuses()).isEqualTo(1);
        assertThat(pool.idleBytes()).isZero();
        assertThat(freed).isEmpty();
    }

    @Test
    void beyondTheCapReturnedBuffersAreFreed() {
        PinnedPool pool = pool(8192);
        long a = pool.takeAddress(4096), b = pool.takeAddress(4096), c = pool.takeAddress(4096);
        pool.give(4096, a);
        pool.give(4096, b);
        pool.give(4096, c);

        assertThat(freed).containsExactly(c);
        assertThat(pool.idleBytes()).isEqualTo(8192);
    }

    @Test
    void anUnreachableSegmentComesBackThroughTheCleaner() throws Exception {
        PinnedPool pool = pool(1 << 20);
        long address = pool.take(4096).address(); // the segment itself is dropped at once
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (pool.idleBytes() == 0 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(10);
        }
        assertThat(pool.idleBytes()).isEqualTo(4096);
        assertThat(pool.takeAddress(4096)).isEqualTo(address);
    }
}
