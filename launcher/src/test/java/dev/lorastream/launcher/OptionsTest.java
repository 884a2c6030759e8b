package dev.lorastream.launcher;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OptionsTest {
    private static final Set<String> VALUED = Set.of("bootstrap-servers", "schema-registry", "http-port", "model", "adapters", "work-dir");

    @Test
    void flags_come_from_the_command_line_and_override_the_environment() {
        Options o = Options.parse("up", new String[]{"--bootstrap-servers", "b:1", "--http-port=81"}, VALUED, Set.of("help"),
                Map.of("LORASTREAM_BOOTSTRAP_SERVERS", "env:9", "LORASTREAM_SCHEMA_REGISTRY", "http://r"));
        assertThat(o.get("bootstrap-servers")).isEqualTo("b:1");
        assertThat(o.get("schema-registry")).isEqualTo("http://r");
        assertThat(o.intValue("up", "http-port", 8000, 0, 65535)).isEqualTo(81);
    }

    @Test
    void unknown_options_missing_values_and_bad_numbers_are_usage_errors_naming_the_option() {
        assertThatThrownBy(() -> Options.parse("up", new String[]{"--bogus", "1"}, VALUED, Set.of(), Map.of()))
                .isInstanceOf(Options.UsageException.class).hasMessageContaining("--bogus");
        assertThatThrownBy(() -> Options.parse("up", new String[]{"--model"}, VALUED, Set.of(), Map.of()))
                .isInstanceOf(Options.UsageException.class).hasMessageContaining("--model needs a value");
        Options o = Options.parse("up", new String[]{"--http-port", "eighty"}, VALUED, Set.of(), Map.of());
        assertThatThrownBy(() -> o.intValue("up", "http-port", 0, 0, 65535))
                .isInstanceOf(Options.UsageException.class).hasMessageContaining("--http-port must be an integer");
        Options big = Options.parse("up", new String[]{"--http-port", "70000"}, VALUED, Set.of(), Map.of());
        assertThatThrownBy(() -> big.intValue("up", "http-port", 0, 0, 65535)).hasMessageContaining("[0, 65535]");
    }

    @Test
    void an_existing_cluster_needs_both_bootstrap_servers_and_registry() {
        Options half = Options.parse("up", new String[]{"--bootstrap-servers", "b:1"}, VALUED, Set.of(), Map.of());
        assertThatThrownBy(() -> StackSettings.from("up", half, false))
                .isInstanceOf(Options.UsageException.class).hasMessageContaining("--bootstrap-servers and --schema-registry go together");
        Options model = Options.parse("up", new String[]{"--model", "/m"}, VALUED, Set.of(), Map.of());
        assertThatThrownBy(() -> StackSettings.from("up", model, false)).hasMessageContaining("--model and --adapters go together");
    }

    @Test
    void demo_defaults_to_free_ports_and_up_to_the_documented_ones() {
        Options none = Options.parse("x", new String[0], VALUED, Set.of(), Map.of());
        StackSettings demo = StackSettings.from("demo", none, true);
        StackSettings up = StackSettings.from("up", none, false);
        assertThat(demo.embedded()).isTrue();
        assertThat(demo.httpPort()).isZero();
        assertThat(up.httpPort()).isEqualTo(8000);
        assertThat(up.kafkaPort()).isEqualTo(9092);
        assertThat(up.registryPort()).isEqualTo(8081);
    }

    @Test
    void pipeline_exits_2_on_usage_errors() {
        assertThat(Pipeline.run(new String[]{"nonsense"}, Map.of())).isEqualTo(2);
        assertThat(Pipeline.run(new String[]{"router"}, Map.of())).isEqualTo(2);
        assertThat(Pipeline.run(new String[]{"up", "--nope"}, Map.of())).isEqualTo(2);
    }

    @Test
    void worker_options_become_worker_settings_and_bad_values_name_the_key() {
        Set<String> valued = Pipeline.COMMANDS.get("worker");
        Options o = Options.parse("worker", new String[]{"--provider", "cuda", "--precision", "fp16", "--tf32", "on",
                "--max-batch", "32", "--adapter-device-bytes", "64MiB", "--adapter-host-bytes", "1GiB", "--adapter-eviction-policy", "lru"}, valued, Set.of(), Map.of());
        var config = Components.workerConfig(new Connection("b:1", "http://r"), java.nio.file.Path.of("."), java.nio.file.Path.of("/"), "w-1", o);
        assertThat(config.executionProvider()).isEqualTo("cuda");
        assertThat(config.maxBatchSize()).isEqualTo(32);
        assertThat(config.engineConfig().precision()).isEqualTo("fp16");
        assertThat(config.engineConfig().tf32()).isTrue();
        assertThat(config.cacheConfig().deviceBytes()).isEqualTo(64L << 20);
        assertThat(config.cacheConfig().hostBytes()).isEqualTo(1L << 30);
        assertThat(config.cacheConfig().evictionPolicy()).isEqualTo("lru");
        Options plain = Options.parse("worker", new String[]{}, valued, Set.of(), Map.of());
        assertThat(Components.workerConfig(new Connection("b:1", "http://r"), java.nio.file.Path.of("."), java.nio.file.Path.of("/"), null, plain)
                .cacheConfig().evictionPolicy()).isEqualTo("lfu");

        Options bad = Options.parse("worker", new String[]{"--precision", "int4"}, valued, Set.of(), Map.of());
        assertThatThrownBy(() -> Components.workerConfig(new Connection("b:1", "http://r"), java.nio.file.Path.of("."), java.nio.file.Path.of("/"), null, bad))
                .hasMessageContaining("engine.precision");
        Options badPolicy = Options.parse("worker", new String[]{"--adapter-eviction-policy", "fifo"}, valued, Set.of(), Map.of());
        assertThatThrownBy(() -> Components.workerConfig(new Connection("b:1", "http://r"), java.nio.file.Path.of("."), java.nio.file.Path.of("/"), null, badPolicy))
                .hasMessageContaining("adapter.cache.eviction.policy");
    }
}
