package dev.lorastream.engine.graph;

import ai.onnxruntime.OrtEnvironment;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.adapters.AdapterBank;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.model.Projection;
import dev.lorastream.engine.runtime.DecoderSession;
import dev.lorastream.engine.runtime.DeviceMemory;
import dev.lorastream.engine.runtime.ExecutionProvider;
import dev.lorastream.engine.runtime.ForwardPass;
import dev.lorastream.engine.runtime.ReferenceForwardPass;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class GraphCacheTest {
    @TempDir
    Path tmp;

    @Test
    void aCachedGraphIsReusedAndNewWeightsGetANewEntry() throws Exception {
        Path model = tmp.resolve("model");
        TestModels.writeBackbone(model, TestModels.llama(), 1);
        ModelConfig config = ModelConfig.read(model);
        GraphCache cache = new GraphCache(tmp.resolve("cache"), OnnxModelWriter.DEFAULT_INLINE_LIMIT);
        String hash = GraphCache.contentHash(model);
        Path first = cache.ensure(model, config, hash);
        FileTime written = FileTime.fromMillis(1_000_000L);
        Files.setLastModifiedTime(first, written);

        Path again = cache.ensure(model, config, GraphCache.contentHash(model));
        TestModels.writeBackbone(model, TestModels.llama(), 2);
        String newHash = GraphCache.contentHash(model);
        Path rebuilt = cache.ensure(model, config, newHash);

        assertThat(again).isEqualTo(first);
        assertThat(Files.getLastModifiedTime(again)).isEqualTo(written);
        assertThat(newHash).isNotEqualTo(hash);
        assertThat(rebuilt).isNotEqualTo(first).exists();
        assertThat(cache.entries()).containsExactlyInAnyOrder(first, rebuilt);
    }

    @Test
    void weightsInAnExternalDataFileGiveTheSameLogitsAsInlineWeights() throws Exception {
        Path model = tmp.resolve("model");
        TestModels.writeBackbone(model, TestModels.qwen2(), 3);
        ModelConfig config = ModelConfig.read(model);
        String hash = GraphCache.contentHash(model);
        Path inline = new GraphCache(tmp.resolve("inline"), Long.MAX_VALUE).ensure(model, config, hash);
        Path external = new GraphCache(tmp.resolve("external"), 0).ensure(model, config, hash);

        assertThat(inline.resolveSibling(inline.getFileName() + ".data")).doesNotExist();
        assertThat(external.resolveSibling(external.getFileName() + ".data")).exists();
        assertThat(logits(external, config)).containsExactly(logits(inline, config));
    }

    private static float[] logits(Path graph, ModelConfig config) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<Projection, Integer> ranks = new EnumMap<>(Projection.class);
        for (Projection p : Projection.values()) ranks.put(p, 1);
        try (DecoderSession s = DecoderSession.open(env, graph, config, ExecutionProvider.CPU, 1);
             AdapterBank bank = AdapterBank.allocate(DeviceMemory.host(env), config, new BankLayout(ranks, 1, Precision.FP32));
             ReferenceForwardPass pass = new ReferenceForwardPass(s, bank::inputs, 1, config.maxSequenceLength(), 0)) {
            return pass.prefill(List.of(new ForwardPass.Prefill(0, new int[] {1, 40, 41, 42}, 0)), true).logits()[0];
        }
    }
}
