package dev.lorastream.engine.graph;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Serializes an {@link OnnxGraphBuilder} as an ONNX ModelProto (field numbers of onnx.proto).
 * Initializers are stored inline, or, when their total exceeds {@code inlineLimitBytes}
 * (protobuf messages stop at 2 GiB), in a side file {@code <model>.data} that the model
 * references by relative location, offset and length (each tensor 4 KiB aligned).
 */
public final class OnnxModelWriter {
    public static final long IR_VERSION = 8;
    public static final long OPSET = 17;
    public static final long DEFAULT_INLINE_LIMIT = 1L << 30;
    private static final int EXTERNAL_MIN_BYTES = 1024;
    private static final int ALIGN = 4096;

    // ModelProto
    private static final int MODEL_IR_VERSION = 1, MODEL_PRODUCER_NAME = 2, MODEL_PRODUCER_VERSION = 3, MODEL_GRAPH = 7, MODEL_OPSET_IMPORT = 8;
    // OperatorSetIdProto
    private static final int OPSET_DOMAIN = 1, OPSET_VERSION = 2;
    // GraphProto
    private static final int GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12;
    // NodeProto
    private static final int NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5;
    // AttributeProto
    private static final int ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_INTS = 8, ATTR_TYPE = 20;
    // TensorProto
    private static final int TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9,
            TENSOR_EXTERNAL_DATA = 13, TENSOR_DATA_LOCATION = 14;
    // StringStringEntryProto
    private static final int ENTRY_KEY = 1, ENTRY_VALUE = 2;
    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, Dimension
    private static final int VALUE_NAME = 1, VALUE_TYPE = 2, TYPE_TENSOR = 1, TENSOR_ELEM_TYPE = 1, TENSOR_SHAPE = 2,
            SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2;

    private OnnxModelWriter() {}

    /** Writes the model to {@code file} (and {@code file + ".data"} when initializers go external). */
    public static void write(OnnxGraphBuilder g, Path file, long inlineLimitBytes) throws IOException {
        long total = g.initializers().stream().mapToLong(i -> i.data().size()).sum();
        boolean external = total > inlineLimitBytes;
        List<Proto> tensors = new ArrayList<>();
        if (external) {
            String location = file.getFileName() + ".data";
            try (OutputStream data = new BufferedOutputStream(Files.newOutputStream(file.resolveSibling(location)), 1 << 20)) {
                long offset = 0;
                for (OnnxGraphBuilder.Initializer init : g.initializers()) {
                    if (init.data().size() < EXTERNAL_MIN_BYTES) {
                        tensors.add(inlineTensor(init));
                        continue;
                    }
                    long pad = (ALIGN - offset % ALIGN) % ALIGN;
                    for (long i = 0; i < pad; i++) data.write(0);
                    offset += pad;
                    init.data().writeTo(data);
                    tensors.add(externalTensor(init, location, offset));
                    offset += init.data().size();
                }
            }
        } else {
            for (OnnxGraphBuilder.Initializer init : g.initializers()) tensors.add(inlineTensor(init));
        }
        Proto model = model(g, tensors);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            model.writeTo(out);
        }
    }

    /** The whole model as bytes, initializers inline. */
    public static byte[] toBytes(OnnxGraphBuilder g) {
        List<Proto> tensors = g.initializers().stream().map(OnnxModelWriter::inlineTensor).toList();
        return model(g, tensors).toByteArray();
    }

    private static Proto model(OnnxGraphBuilder g, List<Proto> tensors) {
        Proto graph = new Proto();
        for (OnnxGraphBuilder.Node n : g.nodes()) graph.message(GRAPH_NODE, node(n));
        graph.string(GRAPH_NAME, g.graphName());
        for (Proto t : tensors) graph.message(GRAPH_INITIALIZER, t);
        for (OnnxGraphBuilder.ValueInfo v : g.inputs()) graph.message(GRAPH_INPUT, valueInfo(v));
        for (OnnxGraphBuilder.ValueInfo v : g.outputs()) graph.message(GRAPH_OUTPUT, valueInfo(v));
        return new Proto()
                .varint(MODEL_IR_VERSION, IR_VERSION)
                .string(MODEL_PRODUCER_NAME, "lorastream")
                .string(MODEL_PRODUCER_VERSION, "0.1")
                .message(MODEL_OPSET_IMPORT, new Proto().string(OPSET_DOMAIN, "").varint(OPSET_VERSION, OPSET))
                .message(MODEL_GRAPH, graph);
    }

    private static Proto node(OnnxGraphBuilder.Node n) {
        Proto p = new Proto();
        for (String in : n.inputs()) p.string(NODE_INPUT, in);
        for (String out : n.outputs()) p.string(NODE_OUTPUT, out);
        p.string(NODE_NAME, n.name()).string(NODE_OP_TYPE, n.opType());
        for (OnnxGraphBuilder.Attr a : n.attrs()) {
            Proto attr = new Proto().string(ATTR_NAME, a.name()).varint(ATTR_TYPE, a.type());
            switch (a.type()) {
                case 1 -> attr.float32(ATTR_F, a.f());
                case 2 -> attr.varint(ATTR_I, a.i());
                case 7 -> {
                    for (long v : a.ints()) attr.varint(ATTR_INTS, v);
                }
                default -> throw new IllegalArgumentException("attribute type " + a.type());
            }
            p.message(NODE_ATTRIBUTE, attr);
        }
        return p;
    }

    private static Proto tensorHeader(OnnxGraphBuilder.Initializer init) {
        Proto t = new Proto();
        for (long d : init.dims()) t.varint(TENSOR_DIMS, d);
        return t.varint(TENSOR_DATA_TYPE, init.dataType()).string(TENSOR_NAME, init.name());
    }

    private static Proto inlineTensor(OnnxGraphBuilder.Initializer init) {
        return tensorHeader(init).raw(TENSOR_RAW_DATA, init.data());
    }

    private static Proto externalTensor(OnnxGraphBuilder.Initializer init, String location, long offset) {
        Proto t = tensorHeader(init);
        t.message(TENSOR_EXTERNAL_DATA, new Proto().string(ENTRY_KEY, "location").string(ENTRY_VALUE, location));
        t.message(TENSOR_EXTERNAL_DATA, new Proto().string(ENTRY_KEY, "offset").string(ENTRY_VALUE, Long.toString(offset)));
        t.message(TENSOR_EXTERNAL_DATA, new Proto().string(ENTRY_KEY, "length").string(ENTRY_VALUE, Long.toString(init.data().size())));
        return t.varint(TENSOR_DATA_LOCATION, 1);
    }

    private static Proto valueInfo(OnnxGraphBuilder.ValueInfo v) {
        Proto shape = new Proto();
        for (Object d : v.dims()) {
            Proto dim = new Proto();
            if (d instanceof Number n) dim.varint(DIM_VALUE, n.longValue());
            else dim.string(DIM_PARAM, d.toString());
            shape.message(SHAPE_DIM, dim);
        }
        Proto tensorType = new Proto().varint(TENSOR_ELEM_TYPE, v.elemType()).message(TENSOR_SHAPE, shape);
        return new Proto().string(VALUE_NAME, v.name()).message(VALUE_TYPE, new Proto().message(TYPE_TENSOR, tensorType));
    }
}
