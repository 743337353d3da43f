package dev.stemnet.service.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.PrometheusScrape;
import dev.stemnet.service.RawHttpConnection;
import dev.stemnet.service.RunningServiceTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.TestPropertySource;

/** The deadline counts from the request's first byte: a body that is still arriving when it passes is never scored. */
@TestPropertySource(properties = "stem.scoring.deadline=300ms")
class DeadlineFromArrivalTest extends RunningServiceTest {

    private static final Duration DEADLINE = Duration.ofMillis(300);
    private static final byte[] BODY = """
            {"userId": "u1", "candidates": [{"itemId": "a1", "features": {"advertiser": "adv1"}}]}"""
            .getBytes(StandardCharsets.UTF_8);
    private static final Map<String, String> SCORED = Map.of("model", "stem-net");
    private static final Map<String, String> DEADLINE_OUTCOME = Map.of("endpoint", "score", "outcome", "deadline");

    @LocalServerPort
    private int port;

    @Test
    void aBodyStillArrivingWhenTheDeadlinePassesIsAnswered504AndNeverScored() throws Exception {
        PrometheusScrape before = scrapeMetrics();
        try (RawHttpConnection slowClient = new RawHttpConnection(port, Duration.ofSeconds(30))) {
            slowClient.sendHeaders("/v1/score", BODY.length);
            slowClient.send(Arrays.copyOf(BODY, BODY.length / 2));
            // The client's own slowness, not a wait for the service: the rest comes after the deadline.
            Thread.sleep(DEADLINE.multipliedBy(2).toMillis());
            slowClient.send(Arrays.copyOfRange(BODY, BODY.length / 2, BODY.length));

            assertThat(slowClient.readStatus()).isEqualTo(504);
            assertThat(slowClient.readRest()).contains("application/problem+json").contains("deadline of 300 ms");
        }
        PrometheusScrape after = scrapeMetrics();
        assertThat(after.sum("stem_score_candidates_count", SCORED)).as("scored requests")
                .isEqualTo(before.sum("stem_score_candidates_count", SCORED));
        assertThat(after.sum("stem_requests_seconds_count", DEADLINE_OUTCOME)
                - before.sum("stem_requests_seconds_count", DEADLINE_OUTCOME)).isEqualTo(1);
    }
}
