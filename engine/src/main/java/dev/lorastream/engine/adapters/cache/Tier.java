package dev.lorastream.engine.adapters.cache;

import java.util.Locale;

/** The cache tiers that hold copies of an adapter (the store is the third, holding every adapter). */
public enum Tier {
    /** Rows of the LoRA bank the decoder gathers from. */
    DEVICE,
    /** Parsed, validated weights in host memory. */
    HOST;

    /** The metric label value. */
    public String label() { return name().toLowerCase(Locale.ROOT); }
}
