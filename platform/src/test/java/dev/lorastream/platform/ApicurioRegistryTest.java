package dev.lorastream.platform;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ApicurioRegistryTest {

    @Test
    void aHomeWithoutTheAppNamesThePathAndTheBuildStep(@TempDir Path dir) {
        Path empty = dir.resolve("not-apicurio");

        assertThatThrownBy(() -> new ApicurioRegistry(dir, empty, 0, 0, ApicurioRegistry.DEFAULT_START_TIMEOUT))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(empty.toString())
                .hasMessageContaining("quarkus-run.jar")
                .hasMessageContaining("mvn -pl platform install")
                .hasMessageContaining(ApicurioRegistry.HOME_PROPERTY);
    }

    @Test
    void aMissingPropertyIsNamed() {
        String before = System.clearProperty(ApicurioRegistry.HOME_PROPERTY);
        try {
            assertThatThrownBy(() -> ApicurioRegistry.resolveHome(null))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("system property apicurio.home is not set")
                    .hasMessageContaining("mvn -pl platform install");
        } finally {
            if (before != null) System.setProperty(ApicurioRegistry.HOME_PROPERTY, before);
        }
    }

    @Test
    void thePropertyPointingNowhereIsNamedWithItsPath(@TempDir Path dir) {
        String before = System.setProperty(ApicurioRegistry.HOME_PROPERTY, dir.resolve("gone").toString());
        try {
            assertThatThrownBy(() -> ApicurioRegistry.resolveHome(null))
                    .hasMessageContaining("system property apicurio.home points to " + dir.resolve("gone"));
        } finally {
            if (before == null) System.clearProperty(ApicurioRegistry.HOME_PROPERTY);
            else System.setProperty(ApicurioRegistry.HOME_PROPERTY, before);
        }
    }

    @Test
    void theCommandRunsThisJavaSmallAndLocalWithAFileDatabaseInTheWorkDir(@TempDir Path dir) throws Exception {
        // Given an app directory (only its quarkus-run.jar matters to the command)
        Path home = Files.createDirectories(dir.resolve("app"));
        Files.createFile(home.resolve("quarkus-run.jar"));
        ApicurioRegistry registry = new ApicurioRegistry(dir.resolve("work"), home, 0, 0, ApicurioRegistry.DEFAULT_START_TIMEOUT);

        assertThat(registry.command())
                .startsWith(Path.of(System.getProperty("java.home"), "bin", "java").toString())
                .contains("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                        "-Dquarkus.http.host=127.0.0.1", "-Dquarkus.management.host=127.0.0.1",
                        "-Dapicurio.datasource.url=jdbc:h2:file:" + dir.resolve("work").resolve("h2").resolve("registry"))
                .contains("-cp", home.resolve("quarkus-run.jar") + java.io.File.pathSeparator + dir.resolve("work").resolve("parent-watch"))
                .endsWith("dev.lorastream.platform.internal.ParentWatch", String.valueOf(ProcessHandle.current().pid()),
                        "io.quarkus.bootstrap.runner.QuarkusEntryPoint");
    }
}
