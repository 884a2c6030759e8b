package dev.lorastream.engine.sim;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The cost model: the H200 calibration's figures, interpolation between and beyond the points, the distinct-adapter share. */
class SimCostModelTest {
    private static final CostModel H200 = CostModel.h200();

    @Test
    void theH200DecodeCurvesAreTheMeasuredStepsAtTheMeasuredBatches() {
        int[] batches = {1, 8, 32, 64, 128};
        double[] backbone = {1.91, 16.37, 17.61, 22.61, 27.43};
        double[] distinct = {1.90, 16.50, 17.72, 23.02, 27.81};
        for (int i = 0; i < batches.length; i++) {
            assertThat(H200.decodeMs(batches[i], 0)).as("backbone, batch %d", batches[i]).isCloseTo(backbone[i], within(1e-9));
            assertThat(H200.decodeMs(batches[i], batches[i])).as("all distinct, batch %d", batches[i]).isCloseTo(distinct[i], within(1e-9));
        }
    }

    @Test
    void decodeIsPiecewiseLinearInTheRowsAndGoesOnWithTheLastSlopeBeyond128() {
        // between 8 (16.37) and 32 (17.61): a quarter of the way at 14 rows
        assertThat(H200.decodeMs(14, 0)).isCloseTo(16.37 + (17.61 - 16.37) * 6 / 24, within(1e-9));
        // beyond 128: the 64-128 slope (27.43 - 22.61) / 64 per row
        assertThat(H200.decodeMs(192, 0)).isCloseTo(27.43 + (27.43 - 22.61), within(1e-9));
        assertThat(H200.decodeMs(0, 0)).isZero();
    }

    @Test
    void distinctAdaptersMoveTheStepBetweenTheCurvesByTheirShareOfTheRows() {
        CostModel tiny = EngineFixtures.tiny();
        // 4 rows: backbone 5 ms, every row its own adapter 7 ms
        assertThat(tiny.decodeMs(4, 0)).isEqualTo(5.0);
        assertThat(tiny.decodeMs(4, 1)).isEqualTo(5.5);
        assertThat(tiny.decodeMs(4, 2)).isEqualTo(6.0);
        assertThat(tiny.decodeMs(4, 4)).isEqualTo(7.0);
        assertThat(H200.decodeMs(32, 16)).isCloseTo((17.61 + 17.72) / 2, within(1e-9));
        assertThatThrownBy(() -> tiny.decodeMs(2, 3)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("distinctAdapters");
    }

    @Test
    void prefillFollowsThePromptTokensOfThePass() {
        // the measured points: batch x 128-token prompts
        assertThat(H200.prefillMs(128)).isEqualTo(6.0);
        assertThat(H200.prefillMs(4096)).isEqualTo(36.0);
        assertThat(H200.prefillMs(16384)).isEqualTo(100.0);
        // between 1,024 (22 ms) and 4,096 (36 ms)
        assertThat(H200.prefillMs(2560)).isCloseTo(29.0, within(1e-9));
        // below the smallest measured pass: its value (launch-bound); beyond the largest: the last slope
        assertThat(H200.prefillMs(1)).isEqualTo(6.0);
        assertThat(H200.prefillMs(24576)).isCloseTo(141.0, within(1e-9));
        assertThat(H200.prefillMs(0)).isZero();
    }

    @Test
    void theH200LoadsAndMemoryAreTheMeasuredOnes() {
        assertThat(H200.name()).isEqualTo("h200-fused-2");
        assertThat(H200.hostToDeviceMs()).isEqualTo(0.2476);
        assertThat(H200.storeToHostMs()).isEqualTo(34.755);
        assertThat(H200.deviceMemoryBytes()).isEqualTo(143_771L * 1024 * 1024).isEqualTo(150_754_820_096L);
        assertThat(H200.backboneWeightBytes()).isEqualTo(2_471_645_456L);
        assertThat(H200.bankSlotBytes()).isEqualTo(9_961_472L);
        // 16 layers x (K, V) x 8 KV heads x head dim 64 x 2 bytes (fp16)
        assertThat(H200.kvBytesPerToken()).isEqualTo(16L * 2 * 8 * 64 * 2);
        assertThat(H200.bankBytes(48)).isEqualTo(49L * 9_961_472L);
    }

    @Test
    void aLinearModelIsWhatItSays() {
        CostModel m = CostModel.linear("what-if", 1.0, 0.5, 2.0, 3.0, 0.01, 0.1, 10.0);
        assertThat(m.decodeMs(10, 0)).isCloseTo(1.0 + 0.5 * 10, within(1e-9));
        assertThat(m.decodeMs(10, 10)).isCloseTo(1.0 + 0.5 * 10 + 2.0, within(1e-9));
        assertThat(m.prefillMs(1000)).isCloseTo(3.0 + 0.01 * 1000, within(1e-9));
        assertThat(m.withLoads(1, 2).storeToHostMs()).isEqualTo(2.0);
    }

    @Test
    void badTablesAreRefusedNamingTheKey() {
        assertThatThrownBy(() -> H200.withDecode(List.of(1, 8, 4), List.of(1.0, 2.0, 3.0), List.of(1.0, 2.0, 3.0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("decodeRows must increase");
        assertThatThrownBy(() -> H200.withDecode(List.of(1, 8), List.of(1.0, 2.0), List.of(1.0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("decodeDistinctMs");
        assertThatThrownBy(() -> H200.withPrefill(List.of(0, 8), List.of(1.0, 2.0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("prefillTokens must start at 1");
        assertThatThrownBy(() -> H200.withLoads(-1, 2)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hostToDeviceMs");
        assertThatThrownBy(() -> H200.withPrefill(List.of(1), List.of(Double.NaN))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("prefillMs");
    }
}
