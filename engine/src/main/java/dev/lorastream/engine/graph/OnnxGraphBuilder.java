package dev.lorastream.engine.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects the nodes, initializers, inputs and outputs of one ONNX graph. Nodes are in the
 * default domain (opset {@link #OPSET}) unless built with {@link #opIn} (ONNX Runtime's contrib
 * ops: {@link #MICROSOFT}). Intermediate values get generated names under the current scope;
 * constants are shared; an empty input name is an omitted optional input.
 */
public final class OnnxGraphBuilder {
    /** ONNX TensorProto.DataType codes. */
    public static final int FLOAT = 1, INT32 = 6, INT64 = 7, BOOL = 9, FLOAT16 = 10;
    /** The default domain's opset the graphs are written against. */
    public static final long OPSET = 17;
    /** ONNX Runtime's contrib operators (GroupQueryAttention, SkipSimplifiedLayerNormalization, QuickGelu). */
    public static final String MICROSOFT = "com.microsoft";

    /** One attribute of a node: INT (2), FLOAT (1) or INTS (7). */
    public record Attr(String name, int type, long i, float f, long[] ints) {
        public static Attr i(String name, long v) { return new Attr(name, 2, v, 0, null); }

        public static Attr f(String name, float v) { return new Attr(name, 1, 0, v, null); }

        public static Attr ints(String name, long... v) { return new Attr(name, 7, 0, 0, v.clone()); }
    }

    /** One node; {@code domain} is "" for the default domain. */
    public record Node(String opType, String domain, String name, List<String> inputs, List<String> outputs, List<Attr> attrs) {}

    public record Initializer(String name, int dataType, long[] dims, RawData data) {}

    /** A graph input or output; each dim is an Integer/Long (fixed) or a String (symbolic). */
    public record ValueInfo(String name, int elemType, List<Object> dims) {}

    private final String graphName;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Initializer> initializers = new LinkedHashMap<>();
    private final List<ValueInfo> inputs = new ArrayList<>();
    private final List<ValueInfo> outputs = new ArrayList<>();
    private final Map<String, String> constants = new HashMap<>();
    private final java.util.Set<String> domains = new java.util.TreeSet<>();
    private String scope = "";
    private int counter;

    public OnnxGraphBuilder(String graphName) { this.graphName = graphName; }

    /** Prefix for the names of the nodes and values created next (for readable graphs). */
    public void scope(String scope) { this.scope = scope.isEmpty() ? "" : scope + "/"; }

    /** Adds a node with one generated output and returns the output's name. */
    public String op(String opType, List<String> in, Attr... attrs) {
        return opIn("", opType, in, 1, attrs).getFirst();
    }

    public String op(String opType, String... in) { return op(opType, List.of(in)); }

    /** Adds a node whose single output has the given name. */
    public String op(String opType, String output, List<String> in, Attr... attrs) {
        return opIn("", opType, in, List.of(output), attrs).getFirst();
    }

    /**
     * Adds a node of {@code domain} with {@code outputs} outputs of generated names (an output
     * given as null gets one; an empty name leaves that output out) and returns their names.
     */
    public List<String> opIn(String domain, String opType, List<String> in, List<String> outputs, Attr... attrs) {
        int id = counter++;
        List<String> outs = new ArrayList<>(outputs.size());
        for (int i = 0; i < outputs.size(); i++) {
            String o = outputs.get(i);
            outs.add(o != null ? o : scope + opType + "_" + id + (i == 0 ? "" : "_" + i));
        }
        domains.add(domain);
        nodes.add(new Node(opType, domain, scope + opType + "#" + id, List.copyOf(in), List.copyOf(outs), List.of(attrs)));
        return outs;
    }

    /** {@link #opIn} with {@code outputs} generated output names. */
    public List<String> opIn(String domain, String opType, List<String> in, int outputs, Attr... attrs) {
        return opIn(domain, opType, in, java.util.Collections.nCopies(outputs, null), attrs);
    }

    /** Domains the nodes use ("" first), for the model's opset imports. */
    public java.util.Set<String> domains() {
        java.util.Set<String> d = new java.util.LinkedHashSet<>();
        d.add("");
        d.addAll(domains);
        return d;
    }

    public String initializer(String name, int dataType, long[] dims, RawData data) {
        if (initializers.containsKey(name)) throw new IllegalArgumentException("duplicate initializer " + name);
        long expected = Arrays.stream(dims).reduce(1, Math::multiplyExact) * (dataType == INT64 ? 8 : dataType == BOOL ? 1 : dataType == FLOAT16 ? 2 : 4 /* FLOAT, INT32 */);
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
