package dev.lorastream.engine.graph;

import ai.onnxruntime.OrtEnvironment;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.adapters.AdapterBank;
import dev.lorastream.engine.model.ModelConfig;
import dev.lorastream.engine.runtime.DecoderSession;
import dev.lorastream.engine.runtime.ExecutionProvider;
import dev.lorastream.engine.runtime.KvCache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

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
        try (DecoderSession s = DecoderSession.open(env, graph, config, ExecutionProvider.CPU, 1);
             AdapterBank bank = AdapterBank.build(env, config, List.of());
             KvCache empty = s.emptyCache(1)) {
            DecoderSession.Step step = s.run(new long[][] {{1, 40, 41, 42}}, new long[][] {{0, 1, 2, 3}}, new long[][] {{1, 1, 1, 1}},
                    new long[] {0}, empty, bank);
            step.cache().close();
            return step.logits()[0];
        }
    }
}
