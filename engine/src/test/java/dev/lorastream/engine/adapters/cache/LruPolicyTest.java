package dev.lorastream.engine.adapters.cache;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LruPolicyTest {
    @Test
    void theVictimIsTheLeastRecentlyAdmittedOrTouchedAmongTheEvictable() {
        LruPolicy lru = new LruPolicy();
        lru.admitted("a");
        lru.admitted("b");
        lru.admitted("c");
        lru.touched("a");

        assertThat(lru.victim(id -> true)).contains("b");
        assertThat(lru.victim(id -> !id.equals("b"))).contains("c");

        lru.removed("b");
        lru.removed("c");
        assertThat(lru.victim(id -> true)).contains("a");
        assertThat(lru.victim(id -> false)).isEmpty();
    }

    @Test
    void touchingAnAdapterTheTierDoesNotHoldAddsNothing() {
        LruPolicy lru = new LruPolicy();
        lru.touched("ghost");

        assertThat(lru.victim(id -> true)).isEmpty();
    }

    @Test
    void policiesAreFoundByName() {
        assertThat(EvictionPolicy.named(" LRU ").get()).isInstanceOf(LruPolicy.class);
    }
}
