package dev.lorastream.engine.runtime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;
import dev.lorastream.engine.graph.Precision;

/** Element types of the tensors the engine allocates itself: ONNX code, bytes, and the Java API's names for them. */
public enum TensorType {
    FLOAT(1, 4, OnnxJavaType.FLOAT, TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT),
    FLOAT16(10, 2, OnnxJavaType.FLOAT16, TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16),
    INT32(6, 4, OnnxJavaType.INT32, TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32),
    INT64(7, 8, OnnxJavaType.INT64, TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64),
    BOOL(9, 1, OnnxJavaType.BOOL, TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL);

    private final int onnxType;
    private final int bytes;
    private final OnnxJavaType javaType;
    private final TensorInfo.OnnxTensorType tensorType;

    TensorType(int onnxType, int bytes, OnnxJavaType javaType, TensorInfo.OnnxTensorType tensorType) {
        this.onnxType = onnxType;
        this.bytes = bytes;
        this.javaType = javaType;
        this.tensorType = tensorType;
    }

    /** The element type of a graph's activations, weights, cache and bank. */
    public static TensorType of(Precision p) {
        return p == Precision.FP16 ? FLOAT16 : FLOAT;
    }

    /** The ONNX TensorProto data type code. */
    public int onnxType() { return onnxType; }

    public int bytes() { return bytes; }

    OnnxJavaType javaType() { return javaType; }

    TensorInfo.OnnxTensorType tensorType() { return tensorType; }
}
