package dev.lorastream.platform;

import dev.lorastream.platform.TestPlatform.Mode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestPlatformTest {

    @Test
    void unsetUsesContainersOnlyWhenDockerIsReachable() {
        assertThat(TestPlatform.mode(null, () -> true)).isEqualTo(Mode.CONTAINERS);
        assertThat(TestPlatform.mode(null, () -> false)).isEqualTo(Mode.EMBEDDED);
        assertThat(TestPlatform.mode(" ", () -> false)).isEqualTo(Mode.EMBEDDED);
    }

    @Test
    void thePropertyWinsOverDocker() {
        assertThat(TestPlatform.mode("embedded", () -> true)).isEqualTo(Mode.EMBEDDED);
        assertThat(TestPlatform.mode("Containers", () -> false)).isEqualTo(Mode.CONTAINERS);
    }

    @Test
    void anUnknownValueIsRefusedWithTheChoices() {
        assertThatThrownBy(() -> TestPlatform.mode("kubernetes", () -> false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-Dlorastream.platform=kubernetes")
                .hasMessageContaining("embedded or containers");
    }
}
