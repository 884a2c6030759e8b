package dev.lorastream.engine.adapters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.engine.model.Projection;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The PEFT {@code adapter_config.json} fields that decide how an adapter applies: rank, alpha,
 * targets, rsLoRA and the per-module rank/alpha patterns. Options that change the adapter's
 * math beyond {@code W + scaling·B·A} (DoRA, trained biases, saved full modules, ...) are refused.
 *
 * @param targetModules   explicit target names (a list), or null when {@code targetRegex} is used
 * @param targetRegex     PEFT's string form of target_modules (a regex over module paths), or null
 * @param rankPattern     pattern -> rank, in file order
 * @param alphaPattern    pattern -> alpha, in file order
 */
public record AdapterConfig(Path file, String peftType, int r, double loraAlpha, List<String> targetModules, String targetRegex,
                            boolean useRslora, Map<String, Integer> rankPattern, Map<String, Double> alphaPattern,
                            String baseModelNameOrPath, List<Integer> layersToTransform) {

    public static final String FILE = "adapter_config.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    public static AdapterConfig read(Path adapterDir) {
        Path file = adapterDir.resolve(FILE);
        if (!Files.isRegularFile(file)) throw new AdapterValidationException(file, null, "missing: an adapter directory needs a PEFT adapter_config.json");
        JsonNode c;
        try {
            c = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new AdapterValidationException(file, null, "not readable JSON: " + e.getMessage());
        }
        if (c == null || !c.isObject()) throw new AdapterValidationException(file, null, "not a JSON object");
        return parse(file, c);
    }

    static AdapterConfig parse(Path file, JsonNode c) {
        String peftType = c.path("peft_type").asText("LORA");
        if (!peftType.equals("LORA")) refuse(file, "peft_type", "'" + peftType + "' is not supported (only LORA)");
        if (c.path("use_dora").asBoolean(false)) {
            refuse(file, "use_dora", "DoRA is not supported: its magnitude vector rescales W + BA per column, which is not an additive A/B delta");
        }
        String bias = c.path("bias").asText("none");
        if (!bias.equals("none")) refuse(file, "bias", "'" + bias + "' is not supported: trained bias vectors are not an A/B delta (only \"none\")");
        if (c.path("fan_in_fan_out").asBoolean(false)) refuse(file, "fan_in_fan_out", "true is for Conv1D (GPT-2) layers, not Llama-family linear layers");
        if (c.path("lora_bias").asBoolean(false)) refuse(file, "lora_bias", "a bias on lora_B is not supported");
        if (c.path("use_qalora").asBoolean(false)) refuse(file, "use_qalora", "QA-LoRA is not supported");
        notEmpty(file, c, "modules_to_save", "fully trained modules saved with the adapter are not supported");
        notEmpty(file, c, "layer_replication", "layer replication changes the backbone's depth and is not supported");
        notEmpty(file, c, "target_parameters", "LoRA on bare parameters is not supported");
        notEmpty(file, c, "trainable_token_indices", "trainable token embeddings are not supported");

        JsonNode rNode = c.get("r");
        if (rNode != null && !rNode.canConvertToInt()) refuse(file, "r", "must be an integer");
        int r = rNode == null ? 8 : rNode.asInt();
        if (r < 1) refuse(file, "r", "rank " + r + " must be at least 1");
        JsonNode alphaNode = c.get("lora_alpha");
        if (alphaNode != null && !alphaNode.isNumber()) refuse(file, "lora_alpha", "must be a number");
        double alpha = alphaNode == null ? 8 : alphaNode.asDouble();

        List<String> targets = null;
        String regex = null;
        JsonNode t = c.get("target_modules");
        if (t == null || t.isNull()) {
            refuse(file, "target_modules", "missing: the adapter must name the projections it adapts");
        } else if (t.isArray()) {
            targets = new ArrayList<>();
            for (JsonNode n : t) targets.add(n.asText());
            if (targets.isEmpty()) refuse(file, "target_modules", "is empty");
        } else if (t.isTextual()) {
            if (t.asText().equals("all-linear")) {
                targets = EnumSet.allOf(Projection.class).stream().map(Projection::moduleName).toList();
            } else {
                regex = t.asText();
                try {
                    Pattern.compile(regex);
                } catch (PatternSyntaxException e) {
                    refuse(file, "target_modules", "'" + regex + "' is not a valid regular expression: " + e.getDescription());
                }
            }
        } else {
            refuse(file, "target_modules", "must be a list of module names or a regex string");
        }

        Map<String, Integer> rankPattern = new LinkedHashMap<>();
        c.path("rank_pattern").fields().forEachRemaining(e -> {
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 1) refuse(file, "rank_pattern." + e.getKey(), "must be a positive integer");
            rankPattern.put(e.getKey(), e.getValue().asInt());
        });
        Map<String, Double> alphaPattern = new LinkedHashMap<>();
        c.path("alpha_pattern").fields().forEachRemaining(e -> {
            if (!e.getValue().isNumber()) refuse(file, "alpha_pattern." + e.getKey(), "must be a number");
            alphaPattern.put(e.getKey(), e.getValue().asDouble());
        });
        List<Integer> layers = null;
        JsonNode ltt = c.get("layers_to_transform");
        if (ltt != null && !ltt.isNull()) {
            layers = new ArrayList<>();
            if (ltt.isArray()) for (JsonNode n : ltt) layers.add(n.asInt());
            else layers.add(ltt.asInt());
        }
        String base = c.hasNonNull("base_model_name_or_path") ? c.get("base_model_name_or_path").asText() : null;
        return new AdapterConfig(file, peftType, r, alpha, targets, regex, c.path("use_rslora").asBoolean(false),
                rankPattern, alphaPattern, base, layers);
    }

    private static void notEmpty(Path file, JsonNode c, String key, String reason) {
        JsonNode n = c.get(key);
        if (n == null || n.isNull() || (n.isContainerNode() && n.isEmpty())) return;
        refuse(file, key, reason);
    }

    private static void refuse(Path file, String key, String reason) {
        throw new AdapterValidationException(file, key, reason);
    }

    /**
     * The projections this config targets in one layer. Names outside the seven projections
     * of a Llama-family layer are refused.
     */
    public Set<Projection> targetsIn(int layer) {
        EnumSet<Projection> set = EnumSet.noneOf(Projection.class);
        if (targetRegex != null) {
            Pattern p = Pattern.compile(targetRegex);
            for (Projection proj : Projection.values()) if (p.matcher(proj.modulePath(layer)).matches()) set.add(proj);
            return set;
        }
        for (String name : targetModules) {
            String last = name.substring(name.lastIndexOf('.') + 1);
            Projection proj = Projection.byModuleName(last).orElseThrow(() -> new AdapterValidationException(file, "target_modules",
                    "'" + name + "' is not a projection this engine can adapt (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)"));
            if (name.equals(last) || ("." + proj.modulePath(layer)).endsWith("." + name)) set.add(proj);
        }
        return set;
    }

    /** Checks every target name once (for all layers), so unknown names fail even if unused. */
    public void checkTargets() {
        if (targetModules != null) targetsIn(0);
    }

    /** Rank declared for a module (rank_pattern, else r), as PEFT resolves patterns. */
    public int rankFor(String modulePath) {
        String key = patternKey(rankPattern.keySet(), modulePath);
        return key == null ? r : rankPattern.get(key);
    }

    public double alphaFor(String modulePath) {
        String key = patternKey(alphaPattern.keySet(), modulePath);
        return key == null ? loraAlpha : alphaPattern.get(key);
    }

    /** {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA. */
    public double scalingFor(String modulePath) {
        int rank = rankFor(modulePath);
        double alpha = alphaFor(modulePath);
        return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    /** The first pattern that matches the end of the module path at a dot boundary (PEFT's rule). */
    private static String patternKey(Iterable<String> patterns, String modulePath) {
        for (String key : patterns) {
            try {
                if (Pattern.compile("(.*\\.)?(" + key + ")").matcher(modulePath).matches()) return key;
            } catch (PatternSyntaxException e) {
                if (modulePath.equals(key) || modulePath.endsWith("." + key)) return key;
            }
        }
        return null;
    }
}
