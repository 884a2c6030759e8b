package dev.lorastream.engine.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects the nodes, initializers, inputs and outputs of one ONNX graph (default domain only).
 * Intermediate values get generated names under the current scope; constants are shared.
 */
public final class OnnxGraphBuilder {
    /** ONNX TensorProto.DataType codes. */
    public static final int FLOAT = 1, INT64 = 7, BOOL = 9, FLOAT16 = 10;

    /** One attribute of a node: INT (2), FLOAT (1) or INTS (7). */
    public record Attr(String name, int type, long i, float f, long[] ints) {
        public static Attr i(String name, long v) { return new Attr(name, 2, v, 0, null); }

        public static Attr f(String name, float v) { return new Attr(name, 1, 0, v, null); }

        public static Attr ints(String name, long... v) { return new Attr(name, 7, 0, 0, v.clone()); }
    }

    public record Node(String opType, String name, List<String> inputs, List<String> outputs, List<Attr> attrs) {}

    public record Initializer(String name, int dataType, long[] dims, RawData data) {}

    /** A graph input or output; each dim is an Integer/Long (fixed) or a String (symbolic). */
    public record ValueInfo(String name, int elemType, List<Object> dims) {}

    private final String graphName;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Initializer> initializers = new LinkedHashMap<>();
    private final List<ValueInfo> inputs = new ArrayList<>();
    private final List<ValueInfo> outputs = new ArrayList<>();
    private final Map<String, String> constants = new HashMap<>();
    private String scope = "";
    private int counter;

    public OnnxGraphBuilder(String graphName) { this.graphName = graphName; }

    /** Prefix for the names of the nodes and values created next (for readable graphs). */
    public void scope(String scope) { this.scope = scope.isEmpty() ? "" : scope + "/"; }

    /** Adds a node with one generated output and returns the output's name. */
    public String op(String opType, List<String> in, Attr... attrs) {
        String out = scope + opType + "_" + counter;
        return op(opType, out, in, attrs);
    }

    public String op(String opType, String... in) { return op(opType, List.of(in)); }

    /** Adds a node whose single output has the given name. */
    public String op(String opType, String output, List<String> in, Attr... attrs) {
        nodes.add(new Node(opType, scope + opType + "#" + counter++, List.copyOf(in), List.of(output), List.of(attrs)));
        return output;
    }

    public String initializer(String name, int dataType, long[] dims, RawData data) {
        if (initializers.containsKey(name)) throw new IllegalArgumentException("duplicate initializer " + name);
        long expected = Arrays.stream(dims).reduce(1, Math::multiplyExact) * (dataType == INT64 ? 8 : dataType == BOOL ? 1 : dataType == FLOAT16 ? 2 : 4);
        if (expected != data.size()) throw new IllegalArgumentException("initializer " + name + ": " + Arrays.toString(dims) + " needs " + expected + " bytes, data has " + data.size());
        initializers.put(name, new Initializer(name, dataType, dims.clone(), data));
        return name;
    }

    /** A 1-D int64 constant. */
    public String ints(long... values) {
        return constants.computeIfAbsent("i" + Arrays.toString(values),
                k -> initializer("const.i64." + constants.size(), INT64, new long[] {values.length}, RawData.longs(values)));
    }

    /** A 0-D int64 constant. */
    public String scalarInt(long value) {
        return constants.computeIfAbsent("si" + value,
                k -> initializer("const.i64s." + constants.size(), INT64, new long[0], RawData.longs(value)));
    }

    /** A 0-D float constant. */
    public String scalarFloat(float value) {
        return constants.computeIfAbsent("sf" + Float.floatToRawIntBits(value),
                k -> initializer("const.f32s." + constants.size(), FLOAT, new long[0], RawData.floats(value)));
    }

    public void input(String name, int elemType, Object... dims) { inputs.add(new ValueInfo(name, elemType, List.of(dims))); }

    public void output(String name, int elemType, Object... dims) { outputs.add(new ValueInfo(name, elemType, List.of(dims))); }

    public String graphName() { return graphName; }

    public List<Node> nodes() { return nodes; }

    public List<Initializer> initializers() { return List.copyOf(initializers.values()); }

    public List<ValueInfo> inputs() { return inputs; }

    public List<ValueInfo> outputs() { return outputs; }
}
