package dev.lorastream.engine.adapters.cache;

/** Where an adapter is in its lifecycle: {@code COLD → LOADING → READY | FAILED}; eviction from every tier returns it to COLD. */
public enum AdapterStatus {
    /** Only in the store. */
    COLD,
    /** Being read from the store into host memory. */
    LOADING,
    /** Its weights are in host memory or in a device slot. */
    READY,
    /** Its load failed; requests fail fast with the remembered reason until the failure is forgotten. */
    FAILED
}
