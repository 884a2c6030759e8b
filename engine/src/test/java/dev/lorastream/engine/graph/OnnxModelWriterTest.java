package dev.lorastream.engine.graph;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.lorastream.engine.graph.onnx.Onnx.AttributeProto;
import dev.lorastream.engine.graph.onnx.Onnx.ModelProto;
import dev.lorastream.engine.graph.onnx.Onnx.NodeProto;
import dev.lorastream.engine.graph.onnx.Onnx.OperatorSetIdProto;
import dev.lorastream.engine.graph.onnx.Onnx.StringStringEntryProto;
import dev.lorastream.engine.graph.onnx.Onnx.TensorProto;
import dev.lorastream.engine.graph.onnx.Onnx.TensorShapeProto;
import dev.lorastream.engine.graph.onnx.Onnx.ValueInfoProto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static dev.lorastream.engine.graph.OnnxGraphBuilder.Attr;
import static dev.lorastream.engine.graph.OnnxGraphBuilder.FLOAT;
import static dev.lorastream.engine.graph.OnnxGraphBuilder.INT64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Models written by {@link OnnxModelWriter}, parsed back with the generated ModelProto and run by ONNX Runtime. */
class OnnxModelWriterTest {
    @TempDir
    Path tmp;

    private static final int IN = 300;

    /**
     * y = Transpose(Softmax(QuickGelu((x · s) W + 0.5))) with a per-feature scale s [300] and W [300, 3] (both
     * large enough to go to external data), a symbolic batch, and QuickGelu from com.microsoft.
     */
    private static OnnxGraphBuilder graph() {
        OnnxGraphBuilder g = new OnnxGraphBuilder("tiny");
        g.input("x", FLOAT, "batch", IN);
        g.output("y", FLOAT, "batch", 3);
        String scale = g.initializer("s", FLOAT, new long[] {IN}, RawData.floats(scales()));
        String weight = g.initializer("w", FLOAT, new long[] {IN, 3}, RawData.floats(weights()));
        String z = g.op("Add", g.op("MatMul", g.op("Mul", "x", scale), weight), g.scalarFloat(0.5f));
        String gelu = g.opIn(OnnxGraphBuilder.MICROSOFT, "QuickGelu", List.of(z), 1, Attr.f("alpha", 1.702f)).getFirst();
        String soft = g.op("Softmax", List.of(gelu), Attr.i("axis", -1));
        g.op("Transpose", "y", List.of(soft), Attr.ints("perm", 0, 1));
        return g;
    }

    private static float[] scales() {
        float[] s = new float[IN];
        for (int i = 0; i < IN; i++) s[i] = 0.5f + (i % 3) * 0.25f;
        return s;
    }

    private static float[] weights() {
        float[] w = new float[IN * 3];
        for (int i = 0; i < w.length; i++) w[i] = (i % 7) * 0.01f - 0.03f;
        return w;
    }

    private static float[] input() {
        float[] x = new float[IN];
        for (int i = 0; i < IN; i++) x[i] = (i % 5) * 0.1f;
        return x;
    }

    private static float[] run(OrtSession s) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input()), new long[] {1, IN});
             OrtSession.Result r = s.run(Map.of("x", x))) {
            return ((OnnxTensor) r.get("y").orElseThrow()).getFloatBuffer().array();
        }
    }

    private static float[] expected() {
        float[] w = weights(), x = input(), s = scales();
        double[] z = new double[3];
        double sum = 0;
        for (int j = 0; j < 3; j++) {
            z[j] = 0.5;
            for (int i = 0; i < IN; i++) z[j] += (double) x[i] * s[i] * w[i * 3 + j];
            z[j] = z[j] / (1 + Math.exp(-1.702 * z[j]));   // QuickGelu: x · sigmoid(alpha x)
            sum += Math.exp(z[j]);
        }
        float[] y = new float[3];
        for (int j = 0; j < 3; j++) y[j] = (float) (Math.exp(z[j]) / sum);
        return y;
    }

    private static byte[] bytesOf(RawData data) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        data.writeTo(out);
        return out.toByteArray();
    }

    private static Map<String, String> externalData(TensorProto t) {
        return t.getExternalDataList().stream().collect(Collectors.toMap(StringStringEntryProto::getKey, StringStringEntryProto::getValue));
    }

    private static NodeProto node(ModelProto m, String opType) {
        return m.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals(opType)).findFirst().orElseThrow();
    }

    @Test
    void modelProtoCarriesOpsetsDomainsAttributesAndShapes() throws Exception {
        ModelProto m = ModelProto.parseFrom(OnnxModelWriter.toBytes(graph()));

        assertThat(m.getIrVersion()).isEqualTo(OnnxModelWriter.IR_VERSION);
        assertThat(m.getProducerName()).isEqualTo("lorastream");
        assertThat(m.getOpsetImportList()).extracting(OperatorSetIdProto::getDomain, OperatorSetIdProto::getVersion)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("", OnnxModelWriter.OPSET),
                        org.assertj.core.groups.Tuple.tuple("com.microsoft", OnnxModelWriter.MICROSOFT_OPSET));
        assertThat(m.getGraph().getName()).isEqualTo("tiny");
        assertThat(m.getGraph().getNodeList()).extracting(NodeProto::getOpType)
                .containsExactly("Mul", "MatMul", "Add", "QuickGelu", "Softmax", "Transpose");

        NodeProto gelu = node(m, "QuickGelu");
        assertThat(gelu.getDomain()).isEqualTo("com.microsoft");
        assertThat(node(m, "MatMul").hasDomain()).isFalse();
        assertThat(gelu.getAttributeList()).singleElement().satisfies(a -> {
            assertThat(a.getName()).isEqualTo("alpha");
            assertThat(a.getType()).isEqualTo(AttributeProto.AttributeType.FLOAT);
            assertThat(a.getF()).isEqualTo(1.702f);
        });
        assertThat(node(m, "Softmax").getAttribute(0)).satisfies(a -> {
            assertThat(a.getType()).isEqualTo(AttributeProto.AttributeType.INT);
            assertThat(a.getI()).isEqualTo(-1);
        });
        assertThat(node(m, "Transpose").getAttribute(0)).satisfies(a -> {
            assertThat(a.getType()).isEqualTo(AttributeProto.AttributeType.INTS);
            assertThat(a.getIntsList()).containsExactly(0L, 1L);
        });
        assertThat(node(m, "Transpose").getOutputList()).containsExactly("y");

        ValueInfoProto x = m.getGraph().getInput(0);
        assertThat(x.getName()).isEqualTo("x");
        assertThat(x.getType().getTensorType().getElemType()).isEqualTo(FLOAT);
        assertThat(x.getType().getTensorType().getShape().getDimList())
                .extracting(TensorShapeProto.Dimension::getDimParam, TensorShapeProto.Dimension::getDimValue)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("batch", 0L), org.assertj.core.groups.Tuple.tuple("", (long) IN));
        assertThat(m.getGraph().getOutputList()).extracting(ValueInfoProto::getName).containsExactly("y");
    }

    @Test
    void aDefaultDomainGraphImportsOnlyTheDefaultOpset() throws Exception {
        OnnxGraphBuilder g = new OnnxGraphBuilder("plain");
        g.input("x", FLOAT, 2);
        g.output("y", FLOAT, 2);
        g.op("Relu", "y", List.of("x"));

        ModelProto m = ModelProto.parseFrom(OnnxModelWriter.toBytes(g));

        assertThat(m.getOpsetImportList()).singleElement().satisfies(o -> {
            assertThat(o.getDomain()).isEmpty();
            assertThat(o.getVersion()).isEqualTo(OnnxModelWriter.OPSET);
        });
        assertThat(m.getGraph().getNode(0).hasDomain()).isFalse();
    }

    @Test
    void inlineModelHoldsEveryTensorAndRunsInOnnxRuntime() throws Exception {
        byte[] bytes = OnnxModelWriter.toBytes(graph());

        ModelProto m = ModelProto.parseFrom(bytes);
        assertThat(m.getGraph().getInitializerList()).extracting(TensorProto::getName).containsExactly("s", "w", "const.f32s.0");
        for (TensorProto t : m.getGraph().getInitializerList()) {
            assertThat(t.getExternalDataList()).isEmpty();
            assertThat(t.hasDataLocation()).isFalse();
            assertThat(t.getDataType()).isEqualTo(FLOAT);
        }
        TensorProto w = m.getGraph().getInitializer(1);
        assertThat(w.getDimsList()).containsExactly((long) IN, 3L);
        assertThat(w.getRawData().toByteArray()).isEqualTo(bytesOf(RawData.floats(weights())));
        assertThat(m.getGraph().getInitializer(2).getDimsList()).isEmpty();

        try (OrtSession s = OrtEnvironment.getEnvironment().createSession(bytes)) {
            assertThat(s.getInputNames()).containsExactly("x");
            assertThat(run(s)).containsExactly(expected(), org.assertj.core.data.Offset.offset(1e-6f));
        }
    }

    @Test
    void externalDataModelKeepsLargeTensorsAlignedInTheSideFileAndRuns() throws Exception {
        Path file = tmp.resolve("m.onnx");
        OnnxModelWriter.write(graph(), file, 0);

        Path data = tmp.resolve("m.onnx.data");
        assertThat(data).exists();
        assertThat(Files.size(file)).isLessThan(1000);
        byte[] side = Files.readAllBytes(data);
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(file));
        Map<String, TensorProto> byName = m.getGraph().getInitializerList().stream().collect(Collectors.toMap(TensorProto::getName, t -> t));

        long[] offsets = new long[2];
        int k = 0;
        for (var e : Map.of("s", RawData.floats(scales()), "w", RawData.floats(weights())).entrySet()) {
            TensorProto t = byName.get(e.getKey());
            assertThat(t.getDataLocation()).isEqualTo(TensorProto.DataLocation.EXTERNAL);
            assertThat(t.hasRawData()).isFalse();
            Map<String, String> ext = externalData(t);
            assertThat(ext).containsOnlyKeys("location", "offset", "length").containsEntry("location", "m.onnx.data");
            long offset = Long.parseLong(ext.get("offset")), length = Long.parseLong(ext.get("length"));
            assertThat(offset % 4096).as("offset of %s", e.getKey()).isZero();
            assertThat(length).isEqualTo(e.getValue().size());
            assertThat(Arrays.copyOfRange(side, (int) offset, (int) (offset + length))).isEqualTo(bytesOf(e.getValue()));
            offsets[k++] = offset;
        }
        assertThat(offsets).containsExactlyInAnyOrder(0L, 4096L);
        assertThat(side).hasSize(4096 + IN * 3 * 4);

        TensorProto small = byName.get("const.f32s.0");   // 4 bytes: under 1 KiB, stays inline
        assertThat(small.getExternalDataList()).isEmpty();
        assertThat(small.hasDataLocation()).isFalse();
        assertThat(small.getRawData().toByteArray()).isEqualTo(bytesOf(RawData.floats(0.5f)));

        try (OrtSession s = OrtEnvironment.getEnvironment().createSession(file.toString())) {
            assertThat(run(s)).containsExactly(expected(), org.assertj.core.data.Offset.offset(1e-6f));
        }
    }

    @Test
    void underTheLimitEverythingStaysInlineAndNoSideFileIsWritten() throws Exception {
        Path file = tmp.resolve("m.onnx");
        OnnxModelWriter.write(graph(), file, OnnxModelWriter.DEFAULT_INLINE_LIMIT);

        assertThat(tmp.resolve("m.onnx.data")).doesNotExist();
        assertThat(Files.readAllBytes(file)).isEqualTo(OnnxModelWriter.toBytes(graph()));
    }

    @Test
    void rawDataThatWritesOtherThanItsDeclaredSizeIsRejected() {
        RawData shortData = new RawData() {
            public long size() { return 8; }

            public void writeTo(OutputStream out) throws java.io.IOException { out.write(new byte[4]); }
        };
        OnnxGraphBuilder g = new OnnxGraphBuilder("bad");
        g.initializer("c", INT64, new long[] {1}, shortData);

        assertThatThrownBy(() -> OnnxModelWriter.toBytes(g)).isInstanceOf(IllegalStateException.class).hasMessageContaining("declared 8");
    }
}
