package dev.lorastream.engine.adapters.cache;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LfuPolicyTest {
    @Test
    void theVictimIsTheLeastUsedAndAmongEqualsTheLeastRecentlyUsed() {
        LfuPolicy lfu = new LfuPolicy();
        lfu.admitted("a");
        lfu.admitted("b");
        lfu.admitted("c");
        lfu.touched("a");
        lfu.touched("c");
        lfu.touched("c");

        assertThat(lfu.victim(id -> true)).contains("b");
        assertThat(lfu.victim(id -> !id.equals("b"))).contains("a");
        lfu.touched("b");
        lfu.touched("b");
        assertThat(lfu.victim(id -> true)).contains("a"); // a and b both at 2: a was used longer ago
        assertThat(lfu.victim(id -> false)).isEmpty();
    }

    @Test
    void anAdapterThatComesBackKeepsItsCount() {
        LfuPolicy lfu = new LfuPolicy();
        lfu.admitted("popular");
        for (int i = 0; i < 5; i++) lfu.touched("popular");
        lfu.removed("popular");
        lfu.admitted("tail");
        lfu.admitted("popular");

        assertThat(lfu.victim(id -> true)).contains("tail");
        assertThat(lfu.countOf("popular")).isEqualTo(7);
    }

    @Test
    void countsAgeSoThatOldPopularityFadesAndForgottenAdaptersAreDropped() {
        LfuPolicy lfu = new LfuPolicy();
        lfu.admitted("old");
        for (int i = 0; i < 99; i++) lfu.touched("old");
        lfu.removed("old");
        int period = LfuPolicy.AGING_FACTOR * LfuPolicy.MIN_PERIOD;
        lfu.admitted("new");
        for (int i = 1; i < 3 * period; i++) lfu.touched("new");

        assertThat(lfu.countOf("old")).isEqualTo(100 >> 3); // halved three times
        for (int i = 0; i < 8 * period; i++) lfu.touched("new");
        assertThat(lfu.countOf("old")).isZero();
        assertThat(lfu.remembered()).isEqualTo(1);
    }

    @Test
    void touchingAnAdapterTheTierDoesNotHoldAddsNothing() {
        LfuPolicy lfu = new LfuPolicy();
        lfu.touched("ghost");

        assertThat(lfu.victim(id -> true)).isEmpty();
        assertThat(lfu.countOf("ghost")).isZero();
    }

    @Test
    void policiesAreFoundByName() {
        assertThat(EvictionPolicy.named("lfu").get()).isInstanceOf(LfuPolicy.class);
    }
}
