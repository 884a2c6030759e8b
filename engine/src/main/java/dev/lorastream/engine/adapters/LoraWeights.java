package dev.lorastream.engine.adapters;

/**
 * One adapted projection of one layer, in PEFT layout: the delta is {@code scaling · B · A}.
 *
 * @param a [rank, in] row-major
 * @param b [out, rank] row-major
 */
public record LoraWeights(int rank, float scaling, float[] a, float[] b) {}
