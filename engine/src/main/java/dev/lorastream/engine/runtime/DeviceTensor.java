package dev.lorastream.engine.runtime;

import ai.onnxruntime.OnnxTensor;

import java.lang.foreign.MemorySegment;

/**
 * A tensor whose memory the engine manages: the {@link OnnxTensor} that runs take, and its data
 * ({@code data}: a device pointer when it lives on the GPU, never to be read from Java then). A
 * view ({@link DeviceMemory#view}) shares its parent's memory; closing it releases only the tensor.
 */
public record DeviceTensor(OnnxTensor tensor, MemorySegment data, TensorType type, long[] shape) implements AutoCloseable {

    public long bytes() {
        long n = type.bytes();
        for (long d : shape) n *= d;
        return n;
    }

    @Override
    public void close() {
        tensor.close();
    }
}
