package dev.lorastream.engine;

/**
 * @param baseModel          name of the backbone (its directory name or config's name)
 * @param maxSequenceLength  prompt + generated tokens may not exceed this
 * @param vocabSize          token ids are in [0, vocabSize)
 * @param eosTokenId         end-of-sequence token, or -1
 * @param executionProvider  CPU or CUDA
 */
public record ModelInfo(String baseModel, int maxSequenceLength, int vocabSize, int eosTokenId, String executionProvider) {}
