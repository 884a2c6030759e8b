package dev.lorastream.platform;

import dev.lorastream.schemas.WorkerStatus;
import dev.lorastream.schemas.registry.HttpSchemaRegistryClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ApicurioRegistryIT {

    @Test
    void schemasSurviveARestartAndCloseEndsTheProcess(@TempDir Path dir) throws Exception {
        // Given a registry of its own with one schema
        try (ApicurioRegistry registry = new ApicurioRegistry(dir).start()) {
            int id = new HttpSchemaRegistryClient(registry.schemaRegistryUrl()).register("status-value", WorkerStatus.getClassSchema());
            int port = registry.port();
            long pid = pidOf(registry);

            // When it is stopped
            registry.stop();

            // Then the process is gone and its port closed
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertThatThrownBy(() -> get(registry.schemaRegistryUrl() + "/subjects")).isInstanceOf(ConnectException.class);

            // And after a start it has the schema under the same id, on the same port, from the H2 file in the work dir
            registry.start();
            assertThat(registry.port()).isEqualTo(port);
            assertThat(new HttpSchemaRegistryClient(registry.schemaRegistryUrl()).schemaById(id)).isEqualTo(WorkerStatus.getClassSchema());
            assertThat(get(registry.schemaRegistryUrl() + "/subjects")).contains("status-value");
            assertThat(Files.list(dir.resolve("h2"))).isNotEmpty();
            assertThat(registry.logFile()).exists();
        }
    }

    @Test
    void aRegistryThatCannotStartFailsWithItsLogTail(@TempDir Path dir) throws Exception {
        // Given its HTTP port already taken
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            ApicurioRegistry registry = new ApicurioRegistry(dir, null, taken.getLocalPort(), 0, Duration.ofSeconds(60));

            // Then start fails, saying so with the end of the registry's log
            assertThatThrownBy(registry::start)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Apicurio Registry exited with code")
                    .hasMessageContaining("last lines of " + registry.logFile())
                    .hasMessageContaining(String.valueOf(taken.getLocalPort()));
            assertThat(registry.isRunning()).isFalse();
        }
    }

    private static long pidOf(ApicurioRegistry registry) {
        return ProcessHandle.current().children()
                .filter(p -> p.info().commandLine().orElse("").contains("-Dquarkus.http.port=" + registry.port()))
                .findFirst().orElseThrow().pid();
    }

    private static String get(String url) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        }
    }
}
