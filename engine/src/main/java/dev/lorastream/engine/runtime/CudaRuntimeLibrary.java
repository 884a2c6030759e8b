package dev.lorastream.engine.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.Optional;

/** The host's CUDA runtime, {@code libcudart} (CUDA 13, else 12, else unversioned), the one ONNX Runtime's CUDA provider uses. */
public final class CudaRuntimeLibrary {
    static final String[] NAMES = {"libcudart.so.13", "libcudart.so.12", "libcudart.so"};

    private CudaRuntimeLibrary() {}

    /** The first of {@link #NAMES} the dynamic linker finds on the library path; empty when none is. */
    public static Optional<SymbolLookup> find() {
        for (String name : NAMES) {
            try {
                return Optional.of(SymbolLookup.libraryLookup(name, Arena.global()));
            } catch (IllegalArgumentException e) {
                // not there: the next name
            }
        }
        return Optional.empty();
    }
}
