package dev.lorastream.ingest.http.auth;

import java.util.Set;

/**
 * One line of the keys file: the hash of a key (never the key), the tenant it bills, what it may use and its limits.
 *
 * @param hash    {@code sha256:<64 lowercase hex>} of the key as the caller sends it after {@code Bearer }
 * @param models  model names it may use (adapter ids, the backbone by its name); empty: every model
 * @param rps     requests per second of its tenant, null: the endpoint's default ({@code http.rate.limit.rps})
 * @param tpm     tokens per minute of its tenant, null: the endpoint's default ({@code http.rate.limit.tpm})
 * @param admin   may also use the runtime adapter endpoints ({@code /v1/load_lora_adapter}, {@code /v1/unload_lora_adapter})
 * @param line    its line in the file, for messages
 */
public record ApiKey(String hash, String tenant, Set<String> models, Double rps, Long tpm, boolean admin, int line) {
    public ApiKey {
        models = Set.copyOf(models);
    }

    /** Whether this key may use {@code model} (an adapter id, or the backbone's name). */
    public boolean mayUse(String model) { return models.isEmpty() || models.contains(model); }

    /** The first characters of the hash: enough to tell keys apart in logs and listings, not to guess one. */
    public String shortHash() { return hash.substring(0, "sha256:".length() + 12); }
}
