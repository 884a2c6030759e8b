package dev.lorastream.engine.sim;

import java.util.List;

/**
 * One simulated forward pass, as a {@link SimulatedEngine} reports it to its pass listeners after the pass.
 *
 * @param number           passes of the engine before this one, counted from 0
 * @param kind             prefill (the joiners' prompts) or decode (one token for each row that was running)
 * @param requestIds       its rows' requests, in row order
 * @param distinctAdapters distinct adapters among its rows (the plain backbone not counted)
 * @param promptTokens     prompt tokens of its rows (prefill; 0 for decode)
 * @param simulatedMs      its duration from the cost model, before the time scale
 */
public record SimPass(long number, Kind kind, List<String> requestIds, int distinctAdapters, long promptTokens, double simulatedMs) {
    public enum Kind { PREFILL, DECODE }

    public SimPass {
        requestIds = List.copyOf(requestIds);
    }

    public int rows() { return requestIds.size(); }
}
