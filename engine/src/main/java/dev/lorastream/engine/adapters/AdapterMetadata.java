package dev.lorastream.engine.adapters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.engine.ContributorShare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The optional sidecar {@code lorastream.json} of an adapter: a declared version, a description
 * and the data contributors with their shares (which sum to 1 within 1e-6).
 */
public record AdapterMetadata(String version, String description, List<ContributorShare> contributors) {
    public static final String FILE = "lorastream.json";
    public static final double SHARE_TOLERANCE = 1e-6;
    public static final AdapterMetadata NONE = new AdapterMetadata(null, null, List.of());
    private static final ObjectMapper JSON = new ObjectMapper();

    public AdapterMetadata {
        contributors = List.copyOf(contributors);
    }

    /** Reads the sidecar of an adapter directory; {@link #NONE} when there is none. */
    public static AdapterMetadata read(Path adapterDir) {
        Path file = adapterDir.resolve(FILE);
        if (!Files.exists(file)) return NONE;
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new AdapterValidationException(file, null, "not readable JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) throw new AdapterValidationException(file, null, "not a JSON object");
        String version = textOrNull(file, root, "version");
        String description = textOrNull(file, root, "description");
        List<ContributorShare> contributors = new ArrayList<>();
        JsonNode list = root.get("contributors");
        if (list != null && !list.isNull()) {
            if (!list.isArray()) throw new AdapterValidationException(file, "contributors", "must be an array of {id, share}");
            Set<String> seen = new HashSet<>();
            double sum = 0;
            for (int i = 0; i < list.size(); i++) {
                JsonNode c = list.get(i);
                String key = "contributors[" + i + "]";
                JsonNode id = c.get("id"), share = c.get("share");
                if (id == null || !id.isTextual() || id.asText().isBlank()) throw new AdapterValidationException(file, key + ".id", "missing or blank");
                if (!seen.add(id.asText())) throw new AdapterValidationException(file, key + ".id", "contributor '" + id.asText() + "' is listed twice");
                if (share == null || !share.isNumber()) throw new AdapterValidationException(file, key + ".share", "missing or not a number");
                double s = share.asDouble();
                if (!(s >= 0 && s <= 1)) throw new AdapterValidationException(file, key + ".share", "share " + s + " is outside [0, 1]");
                sum += s;
                contributors.add(new ContributorShare(id.asText(), s));
            }
            if (!contributors.isEmpty() && Math.abs(sum - 1.0) > SHARE_TOLERANCE) {
                throw new AdapterValidationException(file, "contributors", "shares sum to " + sum + ", they must sum to 1 (within " + SHARE_TOLERANCE + ")");
            }
        }
        return new AdapterMetadata(version, description, contributors);
    }

    /** Writes this sidecar into an adapter directory (the version is left out when null: the files' hash names it). */
    public void write(Path adapterDir) {
        var root = JSON.createObjectNode();
        if (version != null) root.put("version", version);
        if (description != null) root.put("description", description);
        var list = root.putArray("contributors");
        for (ContributorShare c : contributors) list.addObject().put("id", c.contributorId()).put("share", c.share());
        try {
            Files.writeString(adapterDir.resolve(FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + adapterDir.resolve(FILE) + ": " + e.getMessage(), e);
        }
    }

    private static String textOrNull(Path file, JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw new AdapterValidationException(file, key, "must be a string");
        return n.asText();
    }
}
