package dev.lorastream.launcher;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lorastream.engine.EngineConfig;
import dev.lorastream.engine.GenerationTask;
import dev.lorastream.engine.demo.DemoModels;
import dev.lorastream.engine.demo.RandomModels;
import dev.lorastream.engine.model.SafetensorsWriter;
import dev.lorastream.engine.onnx.OnnxLoraEngine;
import dev.lorastream.engine.model.tokenizer.CharTokenizer;
import dev.lorastream.schemas.cli.Cli;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** ./pipeline generate in-process, on the demo backbone and adapters, against the engine's own greedy generation. */
class GenerateCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int[] PROMPT = {1, 40, 50, 60};

    @TempDir
    static Path tmp;
    static DemoModels.Paths demo;
    static OnnxLoraEngine engine;

    @BeforeAll
    static void models() {
        demo = DemoModels.write(tmp.resolve("models"));
        engine = OnnxLoraEngine.open(new EngineConfig(demo.backbone(), demo.adapters(), "cpu", 1));
    }

    @AfterAll
    static void close() {
        if (engine != null) engine.close();
    }

    private record Result(int exit, String out, String err) {
        List<String> lines() { return out.lines().toList(); }
    }

    private static Result generate(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = Cli.commandLine(new GenerateCommand(), Map.of()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    private static int[] expected(String adapterId, int[] prompt, int maxNew, boolean ignoreEos) {
        GenerationTask task = new GenerationTask("expected", adapterId, prompt, maxNew, 0f, 1f, 0, null, ignoreEos);
        return engine.generate(List.of(task)).getFirst().tokenIds();
    }

    private static String joined(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    @Test
    void base_model_prints_the_engines_greedy_tokens_and_their_text() {
        int[] want = expected(null, PROMPT, 8, false);

        Result r = generate("--model", demo.backbone().toString(), "--prompt-ids", joined(PROMPT), "--max-new-tokens", "8");

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.lines()).containsExactly("tokens: " + joined(want), "text: " + GenerateCommand.escape(new CharTokenizer().decode(want)));
        assertThat(want).hasSize(8);
    }

    @Test
    void adapter_prints_the_engines_tokens_with_that_adapter() {
        int[] want = expected("dermatology", PROMPT, 8, false);

        Result r = generate("--model", demo.backbone().toString(), "--adapter", demo.adapters().resolve("dermatology").toString(),
                "--prompt-ids", joined(PROMPT), "--max-new-tokens", "8");

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.lines()).containsExactly("tokens: " + joined(want), "text: " + GenerateCommand.escape(new CharTokenizer().decode(want)));
        assertThat(want).isNotEqualTo(expected(null, PROMPT, 8, false));
    }

    @Test
    void prompt_text_goes_through_the_models_tokenizer() {
        String prompt = "Rash on arm?";
        int[] want = expected("cardiology", engine.encode(prompt), 6, true);

        Result r = generate("--model", demo.backbone().toString(), "--adapter", demo.adapters().resolve("cardiology").toString(),
                "--prompt", prompt, "--max-new-tokens", "6", "--ignore-eos");

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.lines().getFirst()).isEqualTo("tokens: " + joined(want));
    }

    @Test
    void command_line_is_read_into_a_request() {
        CommandLine cl = Cli.commandLine(new GenerateCommand(), Map.of());
        cl.parseArgs("--model", demo.backbone().toString(), "--prompt-ids", " 1, 2 ,3", "--max-new-tokens", "5", "--ignore-eos");

        GenerateCommand.Request req = cl.<GenerateCommand>getCommand().request();

        assertThat(req.promptIds()).containsExactly(1, 2, 3);
        assertThat(req.maxNewTokens()).isEqualTo(5);
        assertThat(req.ignoreEos()).isTrue();
        assertThat(req.adapter()).isNull();
    }

    @Test
    void generated_text_stays_on_one_line() {
        assertThat(GenerateCommand.escape("a\nb\\c\td\u0001é")).isEqualTo("a\\nb\\\\c\\td\\u0001é");
    }

    private static void assertUsageError(Result r, String message) {
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains(message);
    }

    private static void assertModelError(Result r, String... parts) {
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        for (String p : parts) assertThat(r.err()).contains(p);
    }

    @Test
    void prompt_and_prompt_ids_are_exclusive_and_one_is_required() {
        String model = demo.backbone().toString();
        assertUsageError(generate("--model", model, "--max-new-tokens", "4"),
                "Missing required argument (specify one of these): (--prompt=TEXT | --prompt-ids=ID[,ID...])");
        assertUsageError(generate("--model", model, "--prompt", "hi", "--prompt-ids", "1", "--max-new-tokens", "4"),
                "--prompt=TEXT, --prompt-ids=ID[,ID...] are mutually exclusive");
    }

    @Test
    void bad_token_ids_are_usage_errors_naming_the_id() {
        String model = demo.backbone().toString();
        assertUsageError(generate("--model", model, "--prompt-ids", "1,x,3", "--max-new-tokens", "4"), "'x' (position 1) is not an integer");
        assertUsageError(generate("--model", model, "--prompt-ids", "1,,3", "--max-new-tokens", "4"), "'' (position 1) is not an integer");
        assertUsageError(generate("--model", model, "--prompt-ids", "1,-5", "--max-new-tokens", "4"), "-5 (position 1) is negative");
        assertUsageError(generate("--model", model, "--prompt-ids", "1," + CharTokenizer.VOCAB_SIZE, "--max-new-tokens", "4"),
                CharTokenizer.VOCAB_SIZE + " is outside the model's vocabulary [0, " + CharTokenizer.VOCAB_SIZE + ")");
    }

    @Test
    void max_new_tokens_must_be_a_positive_integer_that_fits_the_model() {
        String model = demo.backbone().toString();
        assertUsageError(generate("--model", model, "--prompt-ids", "1,2"), "Missing required option: '--max-new-tokens=N'");
        assertUsageError(generate("--model", model, "--prompt-ids", "1,2", "--max-new-tokens", "0"), "--max-new-tokens must be at least 1, got 0");
        assertUsageError(generate("--model", model, "--prompt-ids", "1,2", "--max-new-tokens", "many"),
                "Invalid value for option '--max-new-tokens': 'many' is not an int");
        assertUsageError(generate("--model", model, "--prompt-ids", "1,2", "--max-new-tokens", "255"),
                "prompt of 2 tokens plus max_new_tokens 255 exceeds the model's maximum sequence length of 256");
    }

    @Test
    void missing_paths_and_unknown_options_are_usage_errors() {
        String model = demo.backbone().toString();
        assertUsageError(generate("--prompt-ids", "1", "--max-new-tokens", "4"), "Missing required option: '--model=DIR'");
        assertUsageError(generate("--model", tmp.resolve("nope").toString(), "--prompt-ids", "1", "--max-new-tokens", "4"), "nope: no such directory");
        assertUsageError(generate("--model", model, "--adapter", tmp.resolve("gone").toString(), "--prompt-ids", "1", "--max-new-tokens", "4"),
                "--adapter " + tmp.resolve("gone") + ": no such directory");
        assertUsageError(generate("--model", model, "--prompt-ids", "1", "--max-new-tokens", "4", "--temperature", "1"), "Unknown options: '--temperature', '1'");
        assertUsageError(generate("--model", model, "stray", "--prompt-ids", "1", "--max-new-tokens", "4"), "unexpected argument 'stray'");
    }

    @Test
    void a_directory_that_is_not_a_model_is_a_model_error() {
        assertModelError(generate("--model", demo.adapters().toString(), "--prompt-ids", "1", "--max-new-tokens", "4"),
                "--model " + demo.adapters() + " is not a model directory: it has no config.json");
    }

    @Test
    void a_dora_adapter_is_refused_naming_its_file_and_key() throws Exception {
        Path dora = copyOf(demo.adapters().resolve("dermatology"), tmp.resolve("dora-adapter"));
        ObjectNode config = (ObjectNode) JSON.readTree(dora.resolve("adapter_config.json").toFile());
        config.put("use_dora", true);
        JSON.writeValue(dora.resolve("adapter_config.json").toFile(), config);

        Result r = generate("--model", demo.backbone().toString(), "--adapter", dora.toString(), "--prompt-ids", "1,2", "--max-new-tokens", "4");

        assertModelError(r, "refused", dora.toRealPath().resolve("adapter_config.json") + ": use_dora: DoRA is not supported");
        assertThat(r.err()).doesNotContain("lorastream-generate-");
    }

    @Test
    void an_adapter_with_wrong_shapes_is_refused_naming_the_tensor() throws Exception {
        RandomModels.BackboneSpec narrower = new RandomModels.BackboneSpec("llama", DemoModels.BASE_MODEL, 32, 2, 4, 2, 128,
                CharTokenizer.VOCAB_SIZE, 256, 10000.0, 1e-5, false, false, 1, 2);
        RandomModels.LoraSpec spec = new RandomModels.LoraSpec(List.of("q_proj", "v_proj"), 4, 8, false, DemoModels.BASE_MODEL, 0.3);
        Path dir = Files.createDirectories(tmp.resolve("narrow-adapter"));
        JSON.writeValue(dir.resolve("adapter_config.json").toFile(), spec.configJson());
        Files.write(dir.resolve("adapter_model.safetensors"), SafetensorsWriter.toBytes(RandomModels.lora(narrower, spec, 5), Map.of()));

        Result r = generate("--model", demo.backbone().toString(), "--adapter", dir.toString(), "--prompt-ids", "1,2", "--max-new-tokens", "4");

        assertModelError(r, dir.toRealPath().resolve("adapter_model.safetensors") + ": base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight: shape [4, 32] does not fit");
    }

    @Test
    void pipeline_dispatches_generate() {
        assertThat(Pipeline.run(new String[]{"generate", "--model", demo.backbone().toString(), "--prompt-ids", "1,2", "--max-new-tokens", "2"}, Map.of()))
                .isZero();
        assertThat(Pipeline.run(new String[]{"generate", "--prompt-ids", "1"}, Map.of())).isEqualTo(2);
    }

    private static Path copyOf(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
        return to;
    }
}
