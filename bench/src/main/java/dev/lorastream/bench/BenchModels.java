package dev.lorastream.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lorastream.engine.demo.RandomModels;
import dev.lorastream.engine.demo.RandomModels.LoraSpec;
import dev.lorastream.engine.model.SafetensorsWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The benchmark's seeded random backbone and its two adapter stores: {@code many} (ids
 * {@code z0000...}, the Zipf stream's) and {@code few} (ids {@code a0...}, the batch's and the
 * comparison stream's). Every adapter has its own weights (seed per adapter), rank
 * {@link BenchPlan#rank()} on {@link BenchPlan#targets()}.
 */
public record BenchModels(Path backbone, Path manyStore, List<String> manyIds, Path fewStore, List<String> fewIds) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Strength of an adapter's delta (std of lora_B): visible in the logits, not dominating them. */
    private static final double B_STD = 0.05;

    public static BenchModels write(BenchPlan plan, Path dir) {
        try {
            Path backbone = dir.resolve("backbone");
            Files.createDirectories(backbone);
            Files.write(backbone.resolve("config.json"), JSON.writeValueAsBytes(plan.backbone().configJson()));
            Files.write(backbone.resolve("model.safetensors"),
                    SafetensorsWriter.toBytes(RandomModels.backbone(plan.backbone(), plan.seed()), Map.of("format", "pt")));
            LoraSpec spec = new LoraSpec(plan.targets(), plan.rank(), plan.rank(), false, plan.backbone().name(), B_STD);
            int width = String.valueOf(plan.manyAdapters() - 1).length();
            List<String> many = new ArrayList<>(), few = new ArrayList<>();
            for (int i = 0; i < plan.manyAdapters(); i++) many.add("z" + "0".repeat(width - String.valueOf(i).length()) + i);
            for (int i = 0; i < plan.smallStoreAdapters(); i++) few.add("a" + i);
            Path manyStore = dir.resolve("adapters-many"), fewStore = dir.resolve("adapters-few");
            for (int i = 0; i < many.size(); i++) writeAdapter(plan, spec, manyStore.resolve(many.get(i)), plan.seed() + 1_000 + i);
            for (int i = 0; i < few.size(); i++) writeAdapter(plan, spec, fewStore.resolve(few.get(i)), plan.seed() + 100 + i);
            return new BenchModels(backbone, manyStore, List.copyOf(many), fewStore, List.copyOf(few));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the benchmark's models to " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void writeAdapter(BenchPlan plan, LoraSpec spec, Path dir, long seed) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve("adapter_config.json"), JSON.writeValueAsBytes(spec.configJson()));
        Files.write(dir.resolve("adapter_model.safetensors"),
                SafetensorsWriter.toBytes(RandomModels.lora(plan.backbone(), spec, seed), Map.of("format", "pt")));
    }
}
