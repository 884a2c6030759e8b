package dev.lorastream.engine.demo;

import dev.lorastream.engine.adapters.AdapterConfig;
import dev.lorastream.engine.ContributorShare;
import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.onnx.OnnxLoraEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class DemoModelsTest {
    @TempDir
    Path tmp;

    private static Map<String, byte[]> files(Path root) throws Exception {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) m.put(root.relativize(p).toString(), Files.readAllBytes(p));
        }
        return m;
    }

    @Test
    void writingTwiceGivesTheSameBytes() throws Exception {
        DemoModels.write(tmp.resolve("a"));
        DemoModels.write(tmp.resolve("b"));

        Map<String, byte[]> a = files(tmp.resolve("a")), b = files(tmp.resolve("b"));
        assertThat(a.keySet()).contains("backbone/config.json", "backbone/model.safetensors",
                "adapters/dermatology/adapter_config.json", "adapters/cardiology/adapter_model.safetensors", "adapters/nutrition/lorastream.json");
        assertThat(b.keySet()).isEqualTo(a.keySet());
        a.forEach((name, bytes) -> assertThat(b.get(name)).as(name).isEqualTo(bytes));
    }

    @Test
    void filesAlreadyPresentAndIdenticalAreNotRewritten() throws Exception {
        DemoModels.Paths p = DemoModels.write(tmp);
        Path weights = p.backbone().resolve("model.safetensors");
        FileTime old = FileTime.fromMillis(1_000_000L);
        Files.setLastModifiedTime(weights, old);
        Path config = p.adapters().resolve("nutrition/adapter_config.json");
        Files.writeString(config, "{}");

        DemoModels.write(tmp);

        assertThat(Files.getLastModifiedTime(weights)).isEqualTo(old);
        assertThat(Files.readString(config)).contains("use_rslora");
    }

    @Test
    void theThreeAdaptersAndTheBackboneAnswerTheSamePromptDifferently() {
        DemoModels.Paths p = DemoModels.write(tmp);
        try (OnnxLoraEngine engine = OnnxLoraEngine.open(new EngineConfig(p.backbone(), p.adapters(), "cpu", 4))) {
            int[] prompt = engine.encode("What should I eat after a heart attack?");
            List<GenerationTask> batch = new ArrayList<>();
            for (String id : Arrays.asList(null, "dermatology", "cardiology", "nutrition")) {
                batch.add(new GenerationTask("q-" + id, id, prompt, 24, 0f, 1f, 0, null, false));
            }

            List<Generation> out = engine.generate(batch);

            assertThat(engine.adapterIds()).containsExactlyInAnyOrderElementsOf(DemoModels.ADAPTERS);
            List<String> texts = out.stream().map(g -> engine.decode(g.tokenIds())).toList();
            assertThat(texts).doesNotHaveDuplicates();
            for (Generation g : out) {
                assertThat(g.tokenIds()).as(g.requestId()).hasSizeGreaterThan(8);
                assertThat(Arrays.stream(g.tokenIds()).distinct().count()).as(g.requestId() + " distinct tokens").isGreaterThanOrEqualTo(5);
            }
        }
    }

    @Test
    void eachAdapterNamesOneToThreeContributorsWhoseSharesSumToOne() {
        DemoModels.Paths p = DemoModels.write(tmp);
        try (OnnxLoraEngine engine = OnnxLoraEngine.open(new EngineConfig(p.backbone(), p.adapters(), "cpu", 4))) {
            for (String id : DemoModels.ADAPTERS) {
                List<ContributorShare> c = engine.contributors(id);
                assertThat(c).as(id).hasSizeBetween(1, 3);
                assertThat(c.stream().mapToDouble(ContributorShare::share).sum()).as(id).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
                assertThat(engine.adapterVersion(id)).isEqualTo("1.0.0");
            }
            assertThat(engine.status().cache().hostResident()).containsAll(DemoModels.ADAPTERS);
            assertThat(AdapterConfig.read(p.adapters().resolve("dermatology")).targetsIn(0)).hasSize(2);
            assertThat(AdapterConfig.read(p.adapters().resolve("cardiology")).targetsIn(0)).hasSize(7);
            assertThat(AdapterConfig.read(p.adapters().resolve("nutrition")).useRslora()).isTrue();
        }
    }
}
