package dev.lorastream.engine.graph;

import com.google.protobuf.ByteString;
import dev.lorastream.engine.graph.onnx.Onnx.AttributeProto;
import dev.lorastream.engine.graph.onnx.Onnx.GraphProto;
import dev.lorastream.engine.graph.onnx.Onnx.ModelProto;
import dev.lorastream.engine.graph.onnx.Onnx.NodeProto;
import dev.lorastream.engine.graph.onnx.Onnx.OperatorSetIdProto;
import dev.lorastream.engine.graph.onnx.Onnx.StringStringEntryProto;
import dev.lorastream.engine.graph.onnx.Onnx.TensorProto;
import dev.lorastream.engine.graph.onnx.Onnx.TensorShapeProto;
import dev.lorastream.engine.graph.onnx.Onnx.TypeProto;
import dev.lorastream.engine.graph.onnx.Onnx.ValueInfoProto;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Serializes an {@link OnnxGraphBuilder} as an ONNX ModelProto (the classes generated from
 * src/main/proto/onnx.proto). Initializers are stored inline, or, when their total exceeds
 * {@code inlineLimitBytes} (protobuf messages stop at 2 GiB), in a side file {@code <model>.data}
 * that the model references by relative location, offset and length (each tensor 4 KiB aligned;
 * tensors under 1 KiB stay inline). External tensors stream from their {@link RawData} into the
 * side file one at a time; the ModelProto holds only the inline ones.
 */
public final class OnnxModelWriter {
    public static final long IR_VERSION = 8;
    public static final long OPSET = OnnxGraphBuilder.OPSET;
    /** Version of ONNX Runtime's com.microsoft domain. */
    public static final long MICROSOFT_OPSET = 1;
    public static final long DEFAULT_INLINE_LIMIT = 1L << 30;
    private static final int EXTERNAL_MIN_BYTES = 1024;
    private static final int ALIGN = 4096;

    private OnnxModelWriter() {}

    /** Writes the model to {@code file} (and {@code file + ".data"} when initializers go external). */
    public static void write(OnnxGraphBuilder g, Path file, long inlineLimitBytes) throws IOException {
        long total = g.initializers().stream().mapToLong(i -> i.data().size()).sum();
        List<TensorProto> tensors = new ArrayList<>();
        if (total > inlineLimitBytes) {
            String location = file.getFileName() + ".data";
            try (CountingOutputStream data = new CountingOutputStream(
                    new BufferedOutputStream(Files.newOutputStream(file.resolveSibling(location)), 1 << 20))) {
                for (OnnxGraphBuilder.Initializer init : g.initializers()) {
                    if (init.data().size() < EXTERNAL_MIN_BYTES) {
                        tensors.add(inlineTensor(init));
                        continue;
                    }
                    data.write(new byte[(int) ((ALIGN - data.count() % ALIGN) % ALIGN)]);
                    long offset = data.count();
                    init.data().writeTo(data);
                    checkSize(init, data.count() - offset);
                    tensors.add(externalTensor(init, location, offset));
                }
            }
        } else {
            for (OnnxGraphBuilder.Initializer init : g.initializers()) tensors.add(inlineTensor(init));
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            model(g, tensors).writeTo(out);
        }
    }

    /** The whole model as bytes, initializers inline. */
    public static byte[] toBytes(OnnxGraphBuilder g) {
        return model(g, g.initializers().stream().map(OnnxModelWriter::inlineTensor).toList()).toByteArray();
    }

    private static ModelProto model(OnnxGraphBuilder g, List<TensorProto> tensors) {
        GraphProto.Builder graph = GraphProto.newBuilder().setName(g.graphName()).addAllInitializer(tensors);
        for (OnnxGraphBuilder.Node n : g.nodes()) graph.addNode(node(n));
        for (OnnxGraphBuilder.ValueInfo v : g.inputs()) graph.addInput(valueInfo(v));
        for (OnnxGraphBuilder.ValueInfo v : g.outputs()) graph.addOutput(valueInfo(v));
        ModelProto.Builder model = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("lorastream")
                .setProducerVersion("0.1")
                .setGraph(graph);
        for (String domain : g.domains()) {
            model.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(domain).setVersion(domain.isEmpty() ? OPSET : MICROSOFT_OPSET));
        }
        return model.build();
    }

    private static NodeProto node(OnnxGraphBuilder.Node n) {
        NodeProto.Builder p = NodeProto.newBuilder()
                .addAllInput(n.inputs())
                .addAllOutput(n.outputs())
                .setName(n.name())
                .setOpType(n.opType());
        if (!n.domain().isEmpty()) p.setDomain(n.domain());
        for (OnnxGraphBuilder.Attr a : n.attrs()) {
            AttributeProto.Builder attr = AttributeProto.newBuilder().setName(a.name());
            switch (a.type()) {
                case 1 -> attr.setType(AttributeProto.AttributeType.FLOAT).setF(a.f());
                case 2 -> attr.setType(AttributeProto.AttributeType.INT).setI(a.i());
                case 7 -> {
                    attr.setType(AttributeProto.AttributeType.INTS);
                    for (long v : a.ints()) attr.addInts(v);
                }
                default -> throw new IllegalArgumentException("attribute type " + a.type());
            }
            p.addAttribute(attr);
        }
        return p.build();
    }

    private static TensorProto.Builder tensorHeader(OnnxGraphBuilder.Initializer init) {
        TensorProto.Builder t = TensorProto.newBuilder();
        for (long d : init.dims()) t.addDims(d);
        return t.setDataType(init.dataType()).setName(init.name());
    }

    private static TensorProto inlineTensor(OnnxGraphBuilder.Initializer init) {
        return tensorHeader(init).setRawData(bytes(init)).build();
    }

    private static TensorProto externalTensor(OnnxGraphBuilder.Initializer init, String location, long offset) {
        return tensorHeader(init)
                .addExternalData(entry("location", location))
                .addExternalData(entry("offset", Long.toString(offset)))
                .addExternalData(entry("length", Long.toString(init.data().size())))
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .build();
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** The initializer's bytes, written into a buffer of their declared size (which becomes the ByteString without a copy). */
    private static ByteString bytes(OnnxGraphBuilder.Initializer init) {
        ByteString.Output out = ByteString.newOutput(Math.toIntExact(init.data().size()));
        try {
            init.data().writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        checkSize(init, out.size());
        return out.toByteString();
    }

    private static void checkSize(OnnxGraphBuilder.Initializer init, long written) {
        if (written != init.data().size()) {
            throw new IllegalStateException("initializer " + init.name() + " wrote " + written + " bytes, declared " + init.data().size());
        }
    }

    private static ValueInfoProto valueInfo(OnnxGraphBuilder.ValueInfo v) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (Object d : v.dims()) {
            TensorShapeProto.Dimension.Builder dim = TensorShapeProto.Dimension.newBuilder();
            if (d instanceof Number n) dim.setDimValue(n.longValue());
            else dim.setDimParam(d.toString());
            shape.addDim(dim);
        }
        TypeProto.Tensor tensorType = TypeProto.Tensor.newBuilder().setElemType(v.elemType()).setShape(shape).build();
        return ValueInfoProto.newBuilder().setName(v.name()).setType(TypeProto.newBuilder().setTensorType(tensorType)).build();
    }

    /** Counts the bytes written through it, for the offsets of external tensors. */
    private static final class CountingOutputStream extends OutputStream {
        private final OutputStream out;
        private long count;

        CountingOutputStream(OutputStream out) { this.out = out; }

        long count() { return count; }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        @Override
        public void flush() throws IOException { out.flush(); }

        @Override
        public void close() throws IOException { out.close(); }
    }
}
