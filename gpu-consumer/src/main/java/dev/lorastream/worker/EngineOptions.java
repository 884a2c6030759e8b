package dev.lorastream.worker;

import dev.lorastream.schemas.cli.Setting;
import dev.lorastream.schemas.cli.SettingDefaults;
import picocli.CommandLine.Option;

/**
 * The engine's options (./pipeline worker, demo and up; the worker's own main): precision, TF32,
 * decoder graph, KV cache and LoRA bank. Each sets one {@link WorkerConfig} key, which checks it.
 */
public final class EngineOptions implements SettingDefaults {
    @Option(names = "--precision", paramLabel = "auto|fp32|fp16",
            description = "weights, activations, KV cache and LoRA bank of the decoder graph: auto = fp16 on cuda (the fused graph), "
                    + "fp32 on cpu (default: ${DEFAULT-VALUE})")
    @Setting("engine.precision")
    String precision;

    @Option(names = "--tf32", paramLabel = "off|on", description = "TF32 matmuls on CUDA: faster, but fp32 results then differ from the CPU's (default: ${DEFAULT-VALUE})")
    @Setting("engine.tf32")
    String tf32;

    @Option(names = "--graph", paramLabel = "auto|fused|reference",
            description = "decoder graph: auto = the fused graph (GroupQueryAttention, static KV cache, CUDA-graph decode) where the model, "
                    + "provider and precision allow it, else the reference graph; the choice and its reason are logged (default: ${DEFAULT-VALUE})")
    @Setting("engine.graph")
    String graph;

    @Option(names = "--kv-capacity", paramLabel = "TOKENS",
            description = "tokens per row (prompt + generated) of the fused graph's static KV cache; 0 = the model's limit, at most "
                    + dev.lorastream.engine.EngineConfig.DEFAULT_KV_CAPACITY + " (default: ${DEFAULT-VALUE})")
    @Setting("engine.kv.capacity")
    String kvCapacity;

    @Option(names = "--cuda-graphs", paramLabel = "on|off",
            description = "cuda with the fused graph: capture each decode batch bucket as a CUDA graph at start-up and replay it (default: ${DEFAULT-VALUE})")
    @Setting("engine.cuda.graphs")
    String cudaGraphs;

    @Option(names = "--bank-rank", paramLabel = "RANK",
            description = "LoRA rank the bank reserves per projection; 0 = the largest rank the store's adapters use at start-up (the bank's "
                    + "shape is fixed once the worker starts; adapters needing more are refused) (default: ${DEFAULT-VALUE})")
    @Setting("adapter.bank.rank")
    String bankRank;

    @Option(names = "--bank-targets", paramLabel = "PROJ[,PROJ...]",
            description = "projections the bank covers besides those the store's adapters target at start-up, e.g. q_proj,k_proj,v_proj,o_proj "
                    + "(default: none besides those)")
    @Setting("adapter.bank.targets")
    String bankTargets;

    @Override
    public String defaultOf(String key) { return WorkerConfig.defaultOf(key); }
}
