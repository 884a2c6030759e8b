package dev.lorastream.worker.engine.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtSession;
import dev.lorastream.worker.engine.graph.GraphNames;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keys and values of every layer for the tokens seen so far, [batch, kv_heads, length, head_dim].
 * Either owns empty tensors (before prefill) or the previous step's result (whose present.*
 * tensors are fed back as past_key_values.* without copying).
 */
public final class KvCache implements AutoCloseable {
    private final Map<String, OnnxTensor> pastInputs;
    private final OrtSession.Result owner;
    private final List<OnnxTensor> owned;

    private KvCache(Map<String, OnnxTensor> pastInputs, OrtSession.Result owner, List<OnnxTensor> owned) {
        this.pastInputs = pastInputs;
        this.owner = owner;
        this.owned = owned;
    }

    static KvCache empty(Map<String, OnnxTensor> tensors) {
        return new KvCache(tensors, null, List.copyOf(tensors.values()));
    }

    static KvCache fromResult(OrtSession.Result result, int layers) {
        Map<String, OnnxTensor> m = new LinkedHashMap<>();
        for (int l = 0; l < layers; l++) {
            m.put(GraphNames.pastKey(l), tensor(result, GraphNames.presentKey(l)));
            m.put(GraphNames.pastValue(l), tensor(result, GraphNames.presentValue(l)));
        }
        return new KvCache(m, result, List.of());
    }

    private static OnnxTensor tensor(OrtSession.Result r, String name) {
        OnnxValue v = r.get(name).orElseThrow(() -> new IllegalStateException("decoder output " + name + " is missing"));
        return (OnnxTensor) v;
    }

    /** Tensors by past_key_values.* input name. */
    Map<String, OnnxTensor> pastInputs() { return pastInputs; }

    @Override
    public void close() {
        owned.forEach(OnnxTensor::close);
        if (owner != null) owner.close();
    }
}
