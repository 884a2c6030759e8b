package dev.lorastream.engine.model;

import java.util.Arrays;

/** A dense row-major float32 tensor. */
public record FloatTensor(int[] shape, float[] data) {

    public FloatTensor {
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n + " elements, got " + data.length);
        }
    }

    public static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    /** Shape as longs (ONNX Runtime's convention). */
    public long[] longShape() {
        return Arrays.stream(shape).asLongStream().toArray();
    }

    /** The transpose of a 2-D tensor: [rows, cols] becomes [cols, rows]. */
    public FloatTensor transpose2d() {
        if (shape.length != 2) throw new IllegalStateException("transpose2d needs a 2-D tensor, shape is " + Arrays.toString(shape));
        int rows = shape[0], cols = shape[1];
        float[] out = new float[data.length];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
        }
        return new FloatTensor(new int[] {cols, rows}, out);
    }

    @Override
    public String toString() { return "FloatTensor" + Arrays.toString(shape); }
}
