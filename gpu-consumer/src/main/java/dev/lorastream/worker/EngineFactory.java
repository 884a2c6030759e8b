package dev.lorastream.worker;

import dev.lorastream.engine.InferenceEngine;
import dev.lorastream.engine.onnx.OnnxLoraEngine;
import dev.lorastream.engine.sim.SimulatedEngine;

/** The engine a worker's configuration names: the real one on ONNX Runtime, or the simulated one ({@code engine=sim}). */
public final class EngineFactory {
    private EngineFactory() {}

    public static InferenceEngine open(WorkerConfig config) {
        if (config.simulated()) return new SimulatedEngine(config.simConfig());
        return OnnxLoraEngine.open(config.engineConfig(), config.cacheConfig());
    }
}
