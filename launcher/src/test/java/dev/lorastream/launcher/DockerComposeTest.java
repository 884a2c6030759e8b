package dev.lorastream.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lorastream.platform.ConfluentImages;
import dev.lorastream.schemas.cli.Cli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** docker-compose.yml names only images, commands, variables and ports that the code has. */
class DockerComposeTest {
    private static final Path COMPOSE = Path.of("..", "docker-compose.yml");
    private static final Set<String> PIPELINE_SERVICES = Set.of("router", "worker", "sink", "http");

    private static JsonNode compose() throws IOException {
        return new ObjectMapper(new YAMLFactory()).readTree(Files.readString(COMPOSE));
    }

    @Test
    void confluent_images_are_the_ones_the_container_test_platform_uses() throws IOException {
        JsonNode services = compose().get("services");
        assertThat(services.get("kafka").get("image").asText()).isEqualTo(ConfluentImages.KAFKA);
        assertThat(services.get("schema-registry").get("image").asText()).isEqualTo(ConfluentImages.SCHEMA_REGISTRY);
    }

    @Test
    void every_pipeline_service_runs_a_launcher_command_with_options_that_command_accepts() throws IOException {
        JsonNode services = compose().get("services");
        for (String name : PIPELINE_SERVICES) {
            JsonNode service = services.get(name);
            assertThat(service).as("service %s", name).isNotNull();
            String command = service.get("command").get(0).asText();
            CommandLine sub = Pipeline.commandLine(Map.of()).getSubcommands().get(command);
            assertThat(sub).as("service %s runs ./pipeline %s", name, command).isNotNull();
            Set<String> accepted = sub.getCommandSpec().options().stream().map(Cli::variable).collect(Collectors.toSet());
            for (Iterator<String> it = service.get("environment").fieldNames(); it.hasNext(); ) {
                String variable = it.next();
                assertThat(variable).startsWith(Cli.ENV_PREFIX);
                String option = "--" + variable.substring(Cli.ENV_PREFIX.length()).toLowerCase().replace('_', '-');
                assertThat(accepted).as("%s sets %s but './pipeline %s' has no %s", name, variable, command, option).contains(variable);
            }
        }
    }

    @Test
    void services_reach_kafka_and_the_registry_on_the_listeners_compose_declares() throws IOException {
        JsonNode services = compose().get("services");
        String advertised = services.get("kafka").get("environment").get("KAFKA_ADVERTISED_LISTENERS").asText();
        String registryListener = services.get("schema-registry").get("environment").get("SCHEMA_REGISTRY_LISTENERS").asText();
        String registryPort = registryListener.substring(registryListener.lastIndexOf(':') + 1);
        for (String name : PIPELINE_SERVICES) {
            JsonNode env = services.get(name).get("environment");
            String bootstrap = env.get("LORASTREAM_BOOTSTRAP_SERVERS").asText();
            assertThat(advertised).as("%s bootstrap %s is an advertised listener", name, bootstrap).contains("//" + bootstrap);
            assertThat(env.get("LORASTREAM_SCHEMA_REGISTRY").asText()).isEqualTo("http://schema-registry:" + registryPort);
        }
        assertThat(services.get("schema-registry").get("environment").get("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS").asText())
                .isEqualTo(services.get("router").get("environment").get("LORASTREAM_BOOTSTRAP_SERVERS").asText());
    }

    @Test
    void published_ports_match_what_the_services_listen_on() throws IOException {
        JsonNode services = compose().get("services");
        String httpPort = services.get("http").get("environment").get("LORASTREAM_HTTP_PORT").asText();
        assertThat(ports(services.get("http"))).contains(httpPort + ":" + httpPort);
        assertThat(ports(services.get("schema-registry"))).contains("8081:8081");
        String listeners = services.get("kafka").get("environment").get("KAFKA_LISTENERS").asText();
        for (String mapping : ports(services.get("kafka"))) {
            assertThat(listeners).contains(":" + mapping.substring(mapping.indexOf(':') + 1));
        }
    }

    @Test
    void workers_ask_for_an_nvidia_gpu() throws IOException {
        JsonNode devices = compose().get("services").get("worker").get("deploy").get("resources").get("reservations").get("devices");
        assertThat(devices.get(0).get("driver").asText()).isEqualTo("nvidia");
        assertThat(devices.get(0).get("capabilities").get(0).asText()).isEqualTo("gpu");
    }

    private static List<String> ports(JsonNode service) {
        List<String> out = new ArrayList<>();
        service.get("ports").forEach(p -> out.add(p.asText()));
        return out;
    }

}
