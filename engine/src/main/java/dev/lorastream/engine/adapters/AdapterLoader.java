package dev.lorastream.engine.adapters;

import dev.lorastream.engine.model.FloatTensor;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.ModelFormatException;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.model.SafetensorsFile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a PEFT LoRA directory and validates it against the backbone: base model, target
 * modules, rank limit, tensor names and shapes. Refusals name the file, the key and the reason.
 */
public final class AdapterLoader {
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    private static final Pattern KEY = Pattern.compile(
            "base_model\\.model\\.model\\.layers\\.(\\d+)\\.(self_attn|mlp)\\.([a-z_]+)\\.lora_([AB])\\.weight");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final ModelConfig backbone;
    private final Set<String> baseModelNames;
    private final int maxRank;

    /**
     * @param baseModelNames names the backbone goes by (lower-cased last path segments); an
     *                       adapter whose base_model_name_or_path ends otherwise is refused
     * @param maxRank        largest LoRA rank accepted
     */
    public AdapterLoader(ModelConfig backbone, Set<String> baseModelNames, int maxRank) {
        this.backbone = backbone;
        this.baseModelNames = baseModelNames.stream().map(s -> s.toLowerCase(Locale.ROOT)).collect(java.util.stream.Collectors.toUnmodifiableSet());
        this.maxRank = maxRank;
    }

    /**
     * The loader of this backbone: an adapter may name it by its config's name or by its directory's
     * (both may be the same string).
     */
    public static AdapterLoader forBackbone(ModelConfig backbone, Path modelDir, int maxRank) {
        Set<String> names = new java.util.LinkedHashSet<>(List.of(backbone.name(), modelDir.toAbsolutePath().normalize().getFileName().toString()));
        return new AdapterLoader(backbone, names, maxRank);
    }

    public LoraAdapter load(String id, Path dir) {
        if (!ID.matcher(id).matches()) throw new AdapterValidationException(dir, null, "adapter id '" + id + "' must match " + ID.pattern());
        AdapterConfig config = AdapterConfig.read(dir);
        checkConfig(config);
        AdapterMetadata metadata = AdapterMetadata.read(dir);
        Path weightsFile = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weightsFile)) throw new AdapterValidationException(weightsFile, null, "missing: the adapter's weights");
        Map<Projection, Map<Integer, LoraWeights>> weights = readWeights(config, weightsFile);
        String hash = contentHash(dir);
        return new LoraAdapter(id, dir, config, metadata, version(metadata, hash), hash, weights);
    }

    /** The declared version, else {@code sha256:} and the first 12 hex digits of the content hash. */
    static String version(AdapterMetadata metadata, String contentHash) {
        return metadata.version() != null ? metadata.version() : "sha256:" + contentHash.substring(0, 12);
    }

    private void checkConfig(AdapterConfig config) {
        Path file = config.file();
        String base = config.baseModelNameOrPath();
        if (base != null && !base.isBlank()) {
            String[] parts = base.replace('\\', '/').split("/");
            String last = parts[parts.length - 1].toLowerCase(Locale.ROOT);
            if (!baseModelNames.contains(last)) {
                throw new AdapterValidationException(file, "base_model_name_or_path",
                        "'" + base + "' is not this engine's backbone (" + String.join(", ", new java.util.TreeSet<>(baseModelNames)) + ")");
            }
        }
        if (config.r() > maxRank) throw new AdapterValidationException(file, "r", "rank " + config.r() + " exceeds this engine's limit of " + maxRank);
        config.rankPattern().forEach((k, r) -> {
            if (r > maxRank) throw new AdapterValidationException(file, "rank_pattern." + k, "rank " + r + " exceeds this engine's limit of " + maxRank);
        });
        config.checkTargets();
        if (config.layersToTransform() != null) {
            for (int l : config.layersToTransform()) {
                if (l < 0 || l >= backbone.numHiddenLayers()) {
                    throw new AdapterValidationException(file, "layers_to_transform", "layer " + l + " does not exist (the backbone has " + backbone.numHiddenLayers() + ")");
                }
            }
        }
    }

    private Map<Projection, Map<Integer, LoraWeights>> readWeights(AdapterConfig config, Path file) {
        Map<Projection, Map<Integer, FloatTensor[]>> pairs = new EnumMap<>(Projection.class);
        SafetensorsFile st;
        try {
            st = SafetensorsFile.open(file);
        } catch (ModelFormatException e) {
            throw new AdapterValidationException(file, null, e.getMessage());
        }
        try (st) {
            if (st.tensors().isEmpty()) throw new AdapterValidationException(file, null, "holds no tensors");
            for (SafetensorsFile.TensorInfo info : st.tensors().values()) {
                String key = info.name();
                Matcher m = KEY.matcher(key);
                if (!m.matches()) {
                    throw new AdapterValidationException(file, key, "not a LoRA weight of a decoder-layer projection "
                            + "(expected base_model.model.model.layers.N.{self_attn|mlp}.MODULE.lora_{A|B}.weight)");
                }
                int layer = Integer.parseInt(m.group(1));
                Projection p = Projection.byModuleName(m.group(3)).filter(x -> x.block().equals(m.group(2)))
                        .orElseThrow(() -> new AdapterValidationException(file, key, "'" + m.group(2) + "." + m.group(3) + "' is not a projection of a Llama-family layer"));
                if (layer >= backbone.numHiddenLayers()) {
                    throw new AdapterValidationException(file, key, "layer " + layer + " does not exist (the backbone has " + backbone.numHiddenLayers() + " layers)");
                }
                if (!config.targetsIn(layer).contains(p)) {
                    throw new AdapterValidationException(file, key, p.moduleName() + " of layer " + layer + " is not among target_modules " + targetsText(config));
                }
                if (config.layersToTransform() != null && !config.layersToTransform().contains(layer)) {
                    throw new AdapterValidationException(file, key, "layer " + layer + " is not in layers_to_transform " + config.layersToTransform());
                }
                String modulePath = p.modulePath(layer);
                int rank = config.rankFor(modulePath);
                boolean isA = m.group(4).equals("A");
                long[] expected = isA ? new long[] {rank, p.inFeatures(backbone)} : new long[] {p.outFeatures(backbone), rank};
                if (!Arrays.equals(info.shape(), expected)) {
                    throw new AdapterValidationException(file, key, "shape " + info.shapeString() + " does not fit: expected " + Arrays.toString(expected)
                            + " (rank " + rank + ", " + p.moduleName() + " is " + p.inFeatures(backbone) + " -> " + p.outFeatures(backbone) + " in the backbone)");
                }
                FloatTensor t;
                try {
                    t = st.read(key);
                } catch (ModelFormatException e) {
                    throw new AdapterValidationException(file, key, e.getMessage());
                }
                for (float f : t.data()) {
                    if (!Float.isFinite(f)) throw new AdapterValidationException(file, key, "holds a non-finite value (" + f + ")");
                }
                pairs.computeIfAbsent(p, k -> new TreeMap<>()).computeIfAbsent(layer, k -> new FloatTensor[2])[isA ? 0 : 1] = t;
            }
        }
        Map<Projection, Map<Integer, LoraWeights>> out = new EnumMap<>(Projection.class);
        pairs.forEach((p, layers) -> layers.forEach((layer, ab) -> {
            String prefix = "base_model.model." + p.modulePath(layer);
            if (ab[0] == null) throw new AdapterValidationException(file, prefix + ".lora_A.weight", "missing (lora_B is present)");
            if (ab[1] == null) throw new AdapterValidationException(file, prefix + ".lora_B.weight", "missing (lora_A is present)");
            String modulePath = p.modulePath(layer);
            out.computeIfAbsent(p, k -> new TreeMap<>()).put(layer,
                    new LoraWeights(config.rankFor(modulePath), (float) config.scalingFor(modulePath), ab[0].data(), ab[1].data()));
        }));
        Map<Projection, Map<Integer, LoraWeights>> frozen = new EnumMap<>(Projection.class);
        out.forEach((p, m) -> frozen.put(p, Collections.unmodifiableMap(m)));
        return Collections.unmodifiableMap(frozen);
    }

    private static String targetsText(AdapterConfig c) {
        return c.targetModules() != null ? c.targetModules().toString() : "'" + c.targetRegex() + "'";
    }

    private static final String[] HASHED = {AdapterConfig.FILE, WEIGHTS_FILE, AdapterMetadata.FILE};
    private static final ContentHashes HASHES = new ContentHashes(16_384);

    /**
     * SHA-256 over the adapter's config, weights and sidecar; remembered until one of those files
     * changes (size, modification time or inode), so reloading an evicted adapter does not hash it again.
     */
    public static String contentHash(Path dir) {
        return HASHES.hash(dir, HASHED, AdapterLoader::sha256);
    }

    private static String sha256(Path dir) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String name : HASHED) {
                Path p = dir.resolve(name);
                if (!Files.exists(p)) continue;
                md.update(name.getBytes(StandardCharsets.UTF_8));
                byte[] buf = new byte[1 << 16];
                try (InputStream in = Files.newInputStream(p)) {
                    for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new AdapterValidationException(dir, null, "cannot read: " + e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
