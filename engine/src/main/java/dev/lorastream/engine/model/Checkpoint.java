package dev.lorastream.engine.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The backbone's weights: every {@code *.safetensors} file of a model directory (one file or
 * shards), opened lazily-read, with lookups by Hugging Face tensor name and shape checks
 * against the config.
 */
public final class Checkpoint implements AutoCloseable {
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName = new LinkedHashMap<>();

    private Checkpoint(List<SafetensorsFile> files) {
        this.files = files;
        for (SafetensorsFile f : files) {
            for (String name : f.tensors().keySet()) {
                SafetensorsFile prev = byName.putIfAbsent(name, f);
                if (prev != null) throw new ModelFormatException("tensor '" + name + "' is in both " + prev.path() + " and " + f.path());
            }
        }
    }

    /** The safetensors files of a model directory, sorted by name. */
    public static List<Path> weightFiles(Path modelDir) {
        try (Stream<Path> s = Files.list(modelDir)) {
            List<Path> list = s.filter(p -> p.getFileName().toString().endsWith(".safetensors") && Files.isRegularFile(p)).sorted().toList();
            if (list.isEmpty()) throw new ModelFormatException(modelDir + ": no *.safetensors weights");
            return list;
        } catch (IOException e) {
            throw new ModelFormatException(modelDir + ": cannot list: " + e.getMessage(), e);
        }
    }

    public static Checkpoint open(Path modelDir) {
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            for (Path p : weightFiles(modelDir)) opened.add(SafetensorsFile.open(p));
            return new Checkpoint(opened);
        } catch (RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    public boolean has(String name) { return byName.containsKey(name); }

    public SafetensorsFile.TensorInfo info(String name) { return file(name).info(name); }

    /** Reads a tensor, checking its shape. */
    public FloatTensor read(String name, long... expectedShape) {
        SafetensorsFile f = file(name);
        SafetensorsFile.TensorInfo info = f.info(name);
        if (!Arrays.equals(info.shape(), expectedShape)) {
            throw new ModelFormatException(f.path() + ": tensor '" + name + "' has shape " + info.shapeString() + ", expected " + Arrays.toString(expectedShape));
        }
        return f.read(name);
    }

    private SafetensorsFile file(String name) {
        SafetensorsFile f = byName.get(name);
        if (f == null) throw new ModelFormatException("checkpoint has no tensor '" + name + "' (files: " + files.stream().map(SafetensorsFile::path).toList() + ")");
        return f;
    }

    /**
     * Checks that every tensor the decoder needs is present with the shape the config implies,
     * without reading data.
     */
    public void validate(ModelConfig c) {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expectedShapes(c).entrySet()) {
            if (!has(e.getKey())) {
                problems.add("missing tensor '" + e.getKey() + "'");
            } else if (!Arrays.equals(info(e.getKey()).shape(), e.getValue())) {
                problems.add("tensor '" + e.getKey() + "' has shape " + info(e.getKey()).shapeString() + ", expected " + Arrays.toString(e.getValue()));
            } else if (DType.fromSafetensors(info(e.getKey()).dtype()) == null) {
                problems.add("tensor '" + e.getKey() + "' has dtype " + info(e.getKey()).dtype() + " (F32, F16, BF16 or F64 needed)");
            }
        }
        if (!problems.isEmpty()) {
            throw new ModelFormatException("weights do not match config.json (" + c.modelType() + ", " + c.numHiddenLayers() + " layers): "
                    + String.join("; ", problems.subList(0, Math.min(10, problems.size())))
                    + (problems.size() > 10 ? "; and " + (problems.size() - 10) + " more" : ""));
        }
    }

    /** Name to shape of every tensor a decoder with this config reads. */
    public static Map<String, long[]> expectedShapes(ModelConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put(WeightNames.EMBED_TOKENS, new long[] {c.vocabSize(), c.hiddenSize()});
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            m.put(WeightNames.inputNorm(l), new long[] {c.hiddenSize()});
            m.put(WeightNames.postAttentionNorm(l), new long[] {c.hiddenSize()});
            for (Projection p : Projection.values()) {
                m.put(WeightNames.weight(l, p), new long[] {p.outFeatures(c), p.inFeatures(c)});
                if (c.hasBias(p)) m.put(WeightNames.bias(l, p), new long[] {p.outFeatures(c)});
            }
        }
        m.put(WeightNames.FINAL_NORM, new long[] {c.hiddenSize()});
        if (!c.tieWordEmbeddings()) m.put(WeightNames.LM_HEAD, new long[] {c.vocabSize(), c.hiddenSize()});
        return m;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
