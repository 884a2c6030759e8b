package dev.lorastream.ingest;

import dev.lorastream.schemas.AdapterDescriptor;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Adapters added, replaced and removed while the pipeline serves: what {@code ./pipeline adapters}
 * and the HTTP endpoint's {@code POST /v1/load_lora_adapter} / {@code /v1/unload_lora_adapter} do.
 * An implementation validates an adapter against the backbone before it takes it, puts it into the
 * adapter store and publishes its entry on adapters.catalog, which the workers follow.
 */
public interface AdapterAdmin {
    /**
     * Adds the PEFT directory {@code source} as adapter {@code id}, or replaces the adapter of that
     * id with a new version; returns the catalog entry published.
     *
     * @param contributors contributor id to share (shares sum to 1), or empty
     * @throws Refused naming the field and the reason when the id, the directory or the metadata is refused
     */
    AdapterDescriptor add(String id, Path source, Map<String, Double> contributors, String description);

    /** Removes the adapter from the store and the catalog; false when there was none of that id. */
    boolean remove(String id);

    /** The adapters the catalog lists now, by id. */
    List<AdapterDescriptor> list();

    /** An add refused: {@code field} is the input at fault ({@code id}, {@code path}, {@code contributors}, ...). */
    final class Refused extends RuntimeException {
        private final String field;

        public Refused(String field, String reason) {
            super(field + ": " + reason);
            this.field = field;
        }

        public String field() { return field; }

        /** The reason without the field. */
        public String reason() { return getMessage().substring(field.length() + 2); }
    }
}
