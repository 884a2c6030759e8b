package dev.lorastream.worker.engine.cache;

import dev.lorastream.worker.engine.bench.ZipfSampler;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

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
    void underZipfPopularityItHitsMoreOftenThanLruWithTheSameRoom() {
        double lru = hitRate(new LruPolicy(), 48, 1000, 20_000);
        double lfu = hitRate(new LfuPolicy(), 48, 1000, 20_000);

        // 48 of 1,000 adapters under Zipf(1.0): the 48 most popular draw ~59% of requests; LRU keeps far fewer of them
        assertThat(lfu).isGreaterThan(lru + 0.08);
        assertThat(lfu).isGreaterThan(0.50);
    }

    @Test
    void policiesAreFoundByName() {
        assertThat(EvictionPolicy.named("lfu").get()).isInstanceOf(LfuPolicy.class);
    }

    /** A tier of {@code room} adapters in front of a store, requests drawn Zipf(1.0) over {@code n}. */
    private static double hitRate(EvictionPolicy policy, int room, int n, int requests) {
        ZipfSampler zipf = new ZipfSampler(n, 1.0, 7);
        Set<String> tier = new HashSet<>();
        int hits = 0;
        for (int i = 0; i < requests; i++) {
            String id = "z" + zipf.next();
            if (tier.contains(id)) {
                hits++;
                policy.touched(id);
                continue;
            }
            if (tier.size() == room) {
                String victim = policy.victim(x -> true).orElseThrow();
                tier.remove(victim);
                policy.removed(victim);
            }
            tier.add(id);
            policy.admitted(id);
        }
        return (double) hits / requests;
    }
}
