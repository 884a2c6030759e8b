package dev.lorastream.platform.internal;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ParentWatchTest {
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        started.forEach(Process::destroyForcibly);
    }

    @Test
    void theChildEndsWhenTheWatchedParentIsKilled() throws Exception {
        // Given a stand-in parent and a service watching it
        Process parent = java(Sleeper.class.getName());
        Process service = java(ParentWatch.class.getName(), String.valueOf(parent.pid()), Sleeper.class.getName());
        awaitLine(service, "sleeping");

        // When the parent is killed without a chance to clean up
        parent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);

        // Then the service exits by itself
        assertThat(service.waitFor(10, TimeUnit.SECONDS)).as("service exited").isTrue();
        assertThat(service.exitValue()).isZero();
    }

    @Test
    void theServiceRunsWhileTheParentLives() throws Exception {
        Process service = java(ParentWatch.class.getName(), String.valueOf(ProcessHandle.current().pid()), Sleeper.class.getName());
        awaitLine(service, "sleeping");

        assertThat(service.waitFor(1500, TimeUnit.MILLISECONDS)).isFalse();
    }

    private Process java(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", classPath()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        started.add(p);
        return p;
    }

    /** Just this module's compiled main and test classes, as the real child gets only ParentWatch. */
    private static String classPath() throws Exception {
        Path main = Path.of(ParentWatch.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path test = Path.of(Sleeper.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return main + File.pathSeparator + test;
    }

    private static void awaitLine(Process p, String expected) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null) {
            if (line.contains(expected)) return;
        }
        throw new AssertionError("process ended before printing '" + expected + "'");
    }
}
