package dev.stemnet.service.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.PrometheusScrape;
import dev.stemnet.service.RunningServiceTest;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.TestPropertySource;

/** A request whose embedding rows take longer than {@code stem.scoring.deadline} gets 504, not late scores. */
@Import(HeldEmbeddingStores.Wiring.class)
@TestPropertySource(properties = "stem.scoring.deadline=100ms")
class DeadlineApiTest extends RunningServiceTest {

    private static final Duration DEADLINE = Duration.ofMillis(100);
    private static final String BODY = """
            {"userId": "u1", "candidates": [{"itemId": "a1", "features": {"advertiser": "adv1"}}]}""";
    private static final Map<String, String> DEADLINE_OUTCOME = Map.of("endpoint", "score", "model", "stem-net",
            "outcome", "deadline");
    private static final Map<String, String> DEADLINE_SHED = Map.of("reason", "deadline");

    @Autowired
    private HeldEmbeddingStores stores;

    @Test
    void answers504WhenTheStoreIsSlowerThanTheDeadlineAndCountsIt() {
        PrometheusScrape before = scrapeMetrics();
        // Nobody releases it: the fetch ends after three deadlines, and the deadline is checked before the run.
        stores.holdNextFetch(DEADLINE.multipliedBy(3));

        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(BODY).exchange()
                .expectStatus().isEqualTo(HttpStatus.GATEWAY_TIMEOUT)
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody()
                .jsonPath("$.status").isEqualTo(504)
                .jsonPath("$.detail").value(String.class, detail -> assertThat(detail)
                        .contains("deadline of 100 ms").contains("running the network"));

        PrometheusScrape after = scrapeMetrics();
        assertThat(after.sum("stem_requests_seconds_count", DEADLINE_OUTCOME)
                - before.sum("stem_requests_seconds_count", DEADLINE_OUTCOME)).isEqualTo(1);
        assertThat(after.sum("stem_requests_shed_total", DEADLINE_SHED)
                - before.sum("stem_requests_shed_total", DEADLINE_SHED)).isEqualTo(1);
    }
}
