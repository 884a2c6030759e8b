package dev.lorastream.engine;

import java.util.SortedSet;

/**
 * What an engine can report about its load and room, measured, for placement: its memory, its LoRA
 * bank's slots, its KV cache, its rows, and which adapters each tier holds now.
 *
 * @param memoryTotalBytes  device memory in total (CUDA's own figure on a GPU; on the CPU the engine's
 *                          budget: KV cache, bank and host tier)
 * @param memoryFreeBytes   of which free now
 * @param bankSlots         adapter slots of the device bank (slot 0, the plain backbone, not counted)
 * @param bankSlotsUsed     slots holding an adapter
 * @param maxRows           rows one forward pass holds (the max batch)
 * @param running           requests in the running batch
 * @param waiting           requests queued to join it
 * @param kvTokensCapacity  tokens the KV cache holds over every row
 * @param kvTokensUsed      tokens it holds now
 * @param generatedTokens   tokens generated since the engine opened (a rate is the difference of two reports)
 * @param deviceAdapters    adapters in a device slot
 * @param hostAdapters      adapters in host memory (an adapter may be in both)
 * @param simulated         a simulated engine's figures (a cost model), not a GPU's
 */
public record EngineLoad(long memoryTotalBytes, long memoryFreeBytes, int bankSlots, int bankSlotsUsed, int maxRows, int running, int waiting,
                         long kvTokensCapacity, long kvTokensUsed, long generatedTokens, SortedSet<String> deviceAdapters,
                         SortedSet<String> hostAdapters, boolean simulated) {
    public EngineLoad {
        deviceAdapters = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(deviceAdapters));
        hostAdapters = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(hostAdapters));
    }

    /** Free bank slots. */
    public int bankSlotsFree() { return Math.max(0, bankSlots - bankSlotsUsed); }
}
