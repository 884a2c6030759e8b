package dev.lorastream.engine.runtime;

import ai.onnxruntime.OnnxTensor;
import dev.lorastream.engine.graph.GraphNames;
import dev.lorastream.engine.graph.Precision;
import dev.lorastream.engine.model.ModelConfig;

import java.util.List;
import java.util.Map;

/**
 * The fused graph's KV cache: per layer one key and one value buffer {@code [rows, kv_heads,
 * capacity, head]}, allocated once and written in place by GroupQueryAttention (row r's tokens at
 * positions 0..length-1). A pass over rows {@code [first, first + n)} takes a view of them as both
 * its past and its present, so no row is ever copied when others join or leave.
 */
final class StaticKvCache implements AutoCloseable {
    private final DeviceMemory mem;
    private final ModelConfig config;
    private final int rows;
    private final int capacity;
    private final DeviceTensor[] keys;
    private final DeviceTensor[] values;
    private final long rowBytes;

    StaticKvCache(DeviceMemory mem, ModelConfig config, Precision precision, int rows, int capacity) {
        this.mem = mem;
        this.config = config;
        this.rows = rows;
        this.capacity = capacity;
        int layers = config.numHiddenLayers();
        this.keys = new DeviceTensor[layers];
        this.values = new DeviceTensor[layers];
        this.rowBytes = (long) config.numKeyValueHeads() * capacity * config.headDim() * precision.bytes();
        try {
            for (int l = 0; l < layers; l++) {
                keys[l] = mem.zeros(precision, rows, config.numKeyValueHeads(), capacity, config.headDim());
                values[l] = mem.zeros(precision, rows, config.numKeyValueHeads(), capacity, config.headDim());
            }
            mem.sync();
        } catch (RuntimeException e) {
            close();
            throw new IllegalStateException("cannot allocate the KV cache of " + rows + " rows x " + capacity + " tokens ("
                    + bytes() / (1 << 20) + " MiB): " + e.getMessage(), e);
        }
    }

    /** Bytes of every layer's keys and values. */
    long bytes() { return 2L * config.numHiddenLayers() * rows * rowBytes; }

    int rows() { return rows; }

    int capacity() { return capacity; }

    /**
     * Views of rows {@code [first, first + n)} of every layer, put into {@code past} under the
     * past_key_values.* names and into {@code present} under the present.* names (the same
     * tensors); the views are added to {@code made}, which the caller closes after the pass.
     */
    void views(int first, int n, Map<String, OnnxTensor> past, Map<String, OnnxTensor> present, List<DeviceTensor> made) {
        if (first < 0 || n < 1 || first + n > rows) throw new IllegalArgumentException("rows " + first + ".." + (first + n) + " of a cache of " + rows);
        long[] shape = {n, config.numKeyValueHeads(), capacity, config.headDim()};
        for (int l = 0; l < keys.length; l++) {
            DeviceTensor k = mem.view(keys[l], first * rowBytes, shape);
            made.add(k);
            DeviceTensor v = mem.view(values[l], first * rowBytes, shape);
            made.add(v);
            past.put(GraphNames.pastKey(l), k.tensor());
            past.put(GraphNames.pastValue(l), v.tensor());
            present.put(GraphNames.presentKey(l), k.tensor());
            present.put(GraphNames.presentValue(l), v.tensor());
        }
    }

    @Override
    public void close() {
        for (DeviceTensor t : keys) if (t != null) t.close();
        for (DeviceTensor t : values) if (t != null) t.close();
    }
}
