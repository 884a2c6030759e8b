package dev.lorastream.engine.graph;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.lorastream.engine.graph.OnnxGraphBuilder.Attr;
import static dev.lorastream.engine.graph.OnnxGraphBuilder.FLOAT;
import static org.assertj.core.api.Assertions.assertThat;

/** Hand-written ModelProto bytes that ONNX Runtime loads and runs. */
class OnnxModelWriterTest {
    @TempDir
    Path tmp;

    private static final int IN = 300;

    /** y = Softmax(x · W + 0.5) with W [300, 3] (large enough to go to external data) and a symbolic batch. */
    private static OnnxGraphBuilder graph() {
        OnnxGraphBuilder g = new OnnxGraphBuilder("tiny");
        g.input("x", FLOAT, "batch", IN);
        g.output("y", FLOAT, "batch", 3);
        String weight = g.initializer("w", FLOAT, new long[] {IN, 3}, RawData.floats(weights()));
        String z = g.op("Add", g.op("MatMul", "x", weight), g.scalarFloat(0.5f));
        g.op("Softmax", "y", List.of(z), Attr.i("axis", -1));
        return g;
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
        float[] w = weights(), x = input();
        double[] z = new double[3];
        double sum = 0;
        for (int j = 0; j < 3; j++) {
            z[j] = 0.5;
            for (int i = 0; i < IN; i++) z[j] += (double) x[i] * w[i * 3 + j];
            sum += Math.exp(z[j]);
        }
        float[] y = new float[3];
        for (int j = 0; j < 3; j++) y[j] = (float) (Math.exp(z[j]) / sum);
        return y;
    }

    @Test
    void inlineModelRunsInOnnxRuntime() throws Exception {
        byte[] bytes = OnnxModelWriter.toBytes(graph());

        try (OrtSession s = OrtEnvironment.getEnvironment().createSession(bytes)) {
            assertThat(s.getInputNames()).containsExactly("x");
            assertThat(run(s)).containsExactly(expected(), org.assertj.core.data.Offset.offset(1e-6f));
        }
    }

    @Test
    void externalDataModelRunsAndKeepsLargeTensorsInTheSideFile() throws Exception {
        Path file = tmp.resolve("m.onnx");
        OnnxModelWriter.write(graph(), file, 0);

        assertThat(tmp.resolve("m.onnx.data")).exists();
        assertThat(Files.size(tmp.resolve("m.onnx.data"))).isGreaterThanOrEqualTo(IN * 3 * 4);
        assertThat(Files.size(file)).isLessThan(1000);
        try (OrtSession s = OrtEnvironment.getEnvironment().createSession(file.toString())) {
            assertThat(run(s)).containsExactly(expected(), org.assertj.core.data.Offset.offset(1e-6f));
        }
    }
}
