package dev.stemnet.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class LogThrottleTest {

    private long now = 1_000;
    private final LogThrottle throttle = new LogThrottle(Duration.ofSeconds(10), () -> now);

    @Test
    void logsTheFirstOccurrenceThenAtMostOncePerIntervalWithTheCountHeldBack() {
        assertThat(throttle.admit("redis/timeout")).isEqualTo(OptionalLong.of(0));
        for (int i = 0; i < 5; i++) {
            now += Duration.ofSeconds(1).toNanos();
            assertThat(throttle.admit("redis/timeout")).as("occurrence %d within the interval", i + 2).isEmpty();
        }

        now += Duration.ofSeconds(5).toNanos();

        assertThat(throttle.admit("redis/timeout")).as("first after the interval").isEqualTo(OptionalLong.of(5));
        assertThat(throttle.admit("redis/timeout")).isEmpty();
    }

    @Test
    void throttlesEachKeyOnItsOwn() {
        assertThat(throttle.admit("redis/timeout")).isPresent();

        assertThat(throttle.admit("redis/missing-row")).as("another reason is logged at once")
                .isEqualTo(OptionalLong.of(0));
        assertThat(throttle.admit("redis/timeout")).isEmpty();
    }
}
