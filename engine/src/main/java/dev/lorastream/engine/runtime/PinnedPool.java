package dev.lorastream.engine.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.LongUnaryOperator;

/**
 * Page-locked host buffers, reused. Allocating and freeing page-locked memory goes through the
 * CUDA driver ({@code cudaMallocHost} pins every page; {@code cudaFreeHost} waits for the device),
 * and an adapter loaded from the store needs one buffer for its packed slot image: doing that per
 * load, from loader threads and from the cleaner, contends with the decode loop's kernel launches.
 * A buffer whose segment becomes unreachable returns here instead, to be handed out again for the
 * same size; beyond {@code capBytes} of idle buffers, returned ones are freed. Thread-safe.
 */
final class PinnedPool {
    private final LongUnaryOperator malloc;
    private final LongConsumer free;
    private final long capBytes;
    private final Map<Long, Queue<Long>> idle = new ConcurrentHashMap<>();
    private final AtomicLong idleBytes = new AtomicLong();
    private final AtomicLong allocations = new AtomicLong();
    private final AtomicLong reuses = new AtomicLong();

    /**
     * @param malloc   allocates page-locked memory of the given size, returns its address (throws when it cannot)
     * @param free     frees an address {@code malloc} returned
     * @param capBytes most bytes of idle buffers kept for reuse
     */
    PinnedPool(LongUnaryOperator malloc, LongConsumer free, long capBytes) {
        this.malloc = malloc;
        this.free = free;
        this.capBytes = capBytes;
    }

    /** A buffer of {@code bytes}, reused when one of that size is idle; it returns here once unreachable. */
    MemorySegment take(long bytes) {
        long address = takeAddress(bytes);
        return MemorySegment.ofAddress(address).reinterpret(bytes, Arena.ofAuto(), s -> give(bytes, s.address()));
    }

    long takeAddress(long bytes) {
        Queue<Long> q = idle.get(bytes);
        Long address = q == null ? null : q.poll();
        if (address != null) {
            idleBytes.addAndGet(-bytes);
            reuses.incrementAndGet();
            return address;
        }
        allocations.incrementAndGet();
        return malloc.applyAsLong(bytes);
    }

    /** A buffer of {@code bytes} at {@code address} is no longer used: kept for reuse, or freed when the pool is full. */
    void give(long bytes, long address) {
        // queued before it is counted: whoever sees the idle bytes finds the buffer (a cleaner thread gives while others take)
        Queue<Long> q = idle.computeIfAbsent(bytes, b -> new ConcurrentLinkedQueue<>());
        q.add(address);
        if (idleBytes.addAndGet(bytes) > capBytes && q.remove(address)) {
            idleBytes.addAndGet(-bytes);
            free.accept(address);
        }
    }

    /** Buffers allocated from the driver so far. */
    long allocations() { return allocations.get(); }

    /** Buffers handed out again instead of allocated. */
    long reuses() { return reuses.get(); }

    long idleBytes() { return idleBytes.get(); }
}
