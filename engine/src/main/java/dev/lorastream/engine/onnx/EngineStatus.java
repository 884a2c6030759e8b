package dev.lorastream.engine.onnx;

import dev.lorastream.engine.adapters.AdapterBank;
import dev.lorastream.engine.adapters.cache.AdapterCache;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.runtime.DeviceMemory;
import dev.lorastream.engine.scheduler.ContinuousBatcher;

import java.nio.file.Path;
import java.util.Map;
import java.util.SortedMap;

/**
 * What an operator (a status page, a start-up line, a benchmark's report) can know about a running
 * engine, as values: which graph runs and why, the LoRA bank's fixed shape and the copies into it,
 * the adapter cache's tiers and the scheduler's counters. Each part is read under its own lock, so
 * the parts of one snapshot may be a step apart.
 *
 * @param graph           the decoder graph chosen at open and why
 * @param graphPath       the cached ONNX file the session runs
 * @param bank            the LoRA bank
 * @param cache           the adapter cache's tiers, read under one lock
 * @param scheduler       the continuous batcher's counters since open
 * @param adapterVersions adapter id to version of the adapters the engine has read
 */
public record EngineStatus(GraphChoice graph, Path graphPath, Bank bank, AdapterCache.Snapshot cache, ContinuousBatcher.Stats scheduler,
                           SortedMap<String, String> adapterVersions) {

    /**
     * The LoRA bank, shaped once at open.
     *
     * @param memory        where it lives (device memory on CUDA)
     * @param slots         slots including slot 0 (the plain backbone)
     * @param ranks         the rank reserved per projection that has LoRA
     * @param bytes         the whole bank
     * @param slotBytes     one slot, every layer and group
     * @param writes        adapter copies into slots since open: how many, their time and bytes
     */
    public record Bank(DeviceMemory.Kind memory, int slots, Map<Projection, Integer> ranks, long bytes, long slotBytes, AdapterBank.WriteStats writes) {
        static Bank of(AdapterBank bank, ModelConfig model) {
            return new Bank(bank.memory().kind(), bank.slotCount(), bank.layout().ranks(), bank.sizeBytes(), bank.layout().slotBytes(model), bank.writeStats());
        }

        /** Whether the bank (and the KV cache) are tensors in the session allocator's memory rather than Java buffers. */
        public boolean deviceTensors() { return memory != DeviceMemory.Kind.HOST; }
    }
}
