package dev.lorastream.launcher;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code ./pipeline demo} in-process, on its own embedded broker and registry. */
class DemoIT {
    @TempDir Path work;

    @Test
    void demo_answers_every_request_and_attributes_each_once() {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = Pipeline.run(new String[]{"demo", "--work-dir", work.resolve("demo").toString()}, Map.of());
        } finally {
            System.setOut(original);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        original.println(out);
        int sent = DemoTraffic.PROMPTS.size() + 1;
        assertThat(exit).isZero();
        assertThat(out).containsPattern("(?m)^demo: " + sent + "/" + sent + " answered, " + sent + " attribution rows, 3 adapters$");
        assertThat(out).contains("Per adapter", "Per tenant", "Per data contributor", "dermatology", "cardiology", "nutrition", "(backbone)");
    }
}
