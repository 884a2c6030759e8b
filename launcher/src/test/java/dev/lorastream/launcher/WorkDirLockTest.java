package dev.lorastream.launcher;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkDirLockTest {
    @TempDir
    Path work;

    @Test
    void aSecondStackInTheSameFolderIsRefusedNamingTheHolderUntilTheFirstLetsGo() throws Exception {
        try (WorkDirLock first = WorkDirLock.acquire(work)) {
            assertThatThrownBy(() -> WorkDirLock.acquire(work))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(work.toString())
                    .hasMessageContaining("pid " + ProcessHandle.current().pid());
        }
        try (WorkDirLock again = WorkDirLock.acquire(work)) {
            assertThat(again).isNotNull();
        }
    }
}
