package dev.lorastream.ingest.http.auth;

import dev.lorastream.ingest.http.auth.RateLimiter.Kind;
import dev.lorastream.ingest.http.auth.RateLimiter.Limits;
import dev.lorastream.ingest.http.auth.RateLimiter.Refusal;
import dev.lorastream.ingest.http.auth.RateLimiter.Ticket;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimiterTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final RateLimiter limiter = new RateLimiter(nanos::get);

    private void advanceMs(long ms) { nanos.addAndGet(ms * 1_000_000L); }

    @Test
    void requestsPerSecondAdmitOneSecondsWorthThenRefuseSayingWhenToRetry() {
        Limits two = new Limits(2, 0);
        assertThat(limiter.admit("t", two, 10)).isInstanceOf(Ticket.class);
        assertThat(limiter.admit("t", two, 10)).isInstanceOf(Ticket.class);

        Refusal refused = (Refusal) limiter.admit("t", two, 10);
        assertThat(refused.kind()).isEqualTo(Kind.REQUESTS);
        assertThat(refused.retryAfterSeconds()).isEqualTo(1);
        assertThat(limiter.admit("other", two, 10)).as("limits are per tenant").isInstanceOf(Ticket.class);

        advanceMs(500);
        assertThat(limiter.admit("t", two, 10)).isInstanceOf(Ticket.class);
        assertThat(limiter.admit("t", two, 10)).isInstanceOf(Refusal.class);
    }

    @Test
    void tokensPerMinuteReserveTheMostARequestMayUseAndItsUsageSettlesThem() {
        Limits sixHundred = new Limits(0, 600); // 10 tokens a second
        Ticket first = (Ticket) limiter.admit("t", sixHundred, 400);
        Refusal refused = (Refusal) limiter.admit("t", sixHundred, 400);
        assertThat(refused.kind()).isEqualTo(Kind.TOKENS);
        assertThat(refused.retryAfterSeconds()).isEqualTo(20); // 200 more tokens at 10/s

        first.settle(100); // used 100 of its 400: 300 back
        first.settle(0);   // once only
        assertThat(limiter.admit("t", sixHundred, 400)).isInstanceOf(Ticket.class);
        assertThat(limiter.admit("t", sixHundred, 101)).isInstanceOf(Refusal.class);
    }

    @Test
    void aRequestThatUsedMoreThanItReservedMakesTheNextWaitLonger() {
        Limits sixty = new Limits(0, 60); // 1 token a second
        Ticket t = (Ticket) limiter.admit("t", sixty, 10);
        t.settle(70); // 60 more than reserved: the bucket is 10 below empty

        Refusal refused = (Refusal) limiter.admit("t", sixty, 5);
        assertThat(refused.retryAfterSeconds()).isEqualTo(15);
    }

    @Test
    void aRequestLargerThanAMinutesTokensCanNeverBeAdmitted() {
        Refusal refused = (Refusal) limiter.admit("t", new Limits(0, 100), 101);
        assertThat(refused.never()).isTrue();
        assertThat(refused.requested()).isEqualTo(101);
    }

    @Test
    void noLimitsAdmitEverythingWithoutKeepingState() {
        for (int i = 0; i < 1000; i++) assertThat(limiter.admit("t" + i, Limits.NONE, 1_000_000)).isInstanceOf(Ticket.class);
        assertThat(limiter.tenants()).isZero();
    }

    @Test
    void changedLimitsTakeEffectKeepingWhatWasUsed() {
        limiter.admit("t", new Limits(1, 0), 1);
        assertThat(limiter.admit("t", new Limits(1, 0), 1)).isInstanceOf(Refusal.class);
        assertThat(limiter.admit("t", new Limits(5, 0), 1)).as("the level is kept: 0 of 5").isInstanceOf(Refusal.class);
        advanceMs(200);
        assertThat(limiter.admit("t", new Limits(5, 0), 1)).isInstanceOf(Ticket.class);
    }
}
