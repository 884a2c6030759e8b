package dev.lorastream.engine.model.tokenizer;

import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.Generation;
import dev.lorastream.engine.TestModels;
import dev.lorastream.engine.demo.RandomModels;
import dev.lorastream.engine.demo.RandomModels.BackboneSpec;
import dev.lorastream.engine.model.FloatTensor;
import dev.lorastream.engine.model.SafetensorsWriter;
import dev.lorastream.engine.model.WeightNames;
import dev.lorastream.engine.onnx.OnnxLoraEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** A tiny random backbone whose vocabulary is a tokenizer.json's: text in, text out through the engine. */
class TokenizerEngineTest {
    private static final List<String> WORDS = List.of("patient", "reports", "itchy", "red", "rash", "on", "the", "left",
            "arm", "since", "monday", "no", "fever", "see", "a", "doctor", ".", ",");
    private static final int NEW_TOKENS = 10;

    @TempDir
    Path dir;

    @Test
    void promptTextIsEncodedWithOneBosAndGeneratedIdsDecodeToTheirWords() throws Exception {
        TokenizerFiles.Spec tokenizer = TokenizerFiles.wordLevel(WORDS).postProcessor(TokenizerFiles.prependTemplate("<s>", 1));
        BackboneSpec spec = new BackboneSpec("llama", "tok-llama", 32, 2, 4, 2, 48, tokenizer.size(), 64, 10000.0, 1e-5, false, false, 1, 2);
        Map<String, FloatTensor> weights = RandomModels.backbone(spec, 42);
        FloatTensor head = weights.get(WeightNames.LM_HEAD);
        for (int special = 0; special < TokenizerFiles.SPECIALS.size(); special++) {
            Arrays.fill(head.data(), special * spec.hidden(), (special + 1) * spec.hidden(), 0f); // logit 0: words mostly win
        }
        Files.createDirectories(dir);
        TestModels.writeJson(dir.resolve("config.json"), spec.configJson());
        Files.write(dir.resolve("model.safetensors"), SafetensorsWriter.toBytes(weights, Map.of()));
        tokenizer.writeTo(dir);

        try (OnnxLoraEngine engine = OnnxLoraEngine.open(new EngineConfig(dir, null, "cpu", 1))) {
            int[] prompt = engine.encode("patient reports itchy red rash on the left arm.");
            Generation g = engine.generate(List.of(TestModels.greedy("r1", null, prompt, NEW_TOKENS))).getFirst();
            String text = engine.decode(g.tokenIds());

            assertThat(engine.tokenizer()).isInstanceOf(HfTokenizer.class);
            assertThat(prompt).containsExactly(1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 20);
            assertThat(g.tokenIds()).hasSize(NEW_TOKENS);
            assertThat(g.tokenIds()).containsExactly(new TestModels.Backbone(dir, spec, weights).reference().greedy(prompt, NEW_TOKENS));
            assertThat(text).isNotBlank().isEqualTo(wordsOf(g.tokenIds()));
            assertThat(engine.decode(prompt)).isEqualTo("patient reports itchy red rash on the left arm .");
        }
    }

    /** The words of the ids joined by spaces, straight from the vocabulary (WordLevel without a decoder), specials left out. */
    private static String wordsOf(int[] ids) {
        List<String> words = new ArrayList<>();
        for (int id : ids) if (id >= TokenizerFiles.SPECIALS.size()) words.add(WORDS.get(id - TokenizerFiles.SPECIALS.size()));
        return words.stream().collect(Collectors.joining(" "));
    }
}
