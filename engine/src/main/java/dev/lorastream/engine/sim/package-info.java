/**
 * A simulated inference engine: {@link dev.lorastream.engine.sim.SimulatedEngine} implements
 * {@link dev.lorastream.engine.InferenceEngine} with the real engine's scheduling (continuous batching,
 * device / host / store adapter tiers) and a {@link dev.lorastream.engine.sim.CostModel} calibrated on
 * an H200 in place of the model, so that a fleet of workers can run on a small machine. No ONNX
 * Runtime, no Kafka. Every output says it is simulated. See docs/sim-engine.md.
 */
package dev.lorastream.engine.sim;
