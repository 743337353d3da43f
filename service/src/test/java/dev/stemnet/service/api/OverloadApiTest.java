package dev.stemnet.service.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.PrometheusScrape;
import dev.stemnet.service.RunningServiceTest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.TestPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * One scoring slot and no queue: while a request holds the slot (held inside the embedding store), the next
 * one is refused at once with 429. The deadline is long, so the held request cannot run out of time.
 */
@Import(HeldEmbeddingStores.Wiring.class)
@TestPropertySource(properties = {
        "stem.scoring.max-concurrent=1",
        "stem.scoring.max-queued=0",
        "stem.scoring.deadline=1m"})
class OverloadApiTest extends RunningServiceTest {

    private static final String BODY = """
            {"userId": "u1", "candidates": [{"itemId": "a1", "features": {"advertiser": "adv1"}}]}""";
    private static final Map<String, String> SHED_OUTCOME = Map.of("endpoint", "score", "outcome", "shed");
    private static final Map<String, String> OVERLOADED = Map.of("reason", "queue_full");

    @Autowired
    private HeldEmbeddingStores stores;

    @Test
    void refusesARequestPastTheSlotsAndTheQueueAtOnceWith429AndRetryAfterAndCountsIt() throws Exception {
        PrometheusScrape before = scrapeMetrics();
        HeldEmbeddingStores.Hold hold = stores.holdNextFetch(Duration.ofMinutes(1));
        CompletableFuture<HttpStatus> holder = CompletableFuture.supplyAsync(() -> HttpStatus.valueOf(
                post().returnResult().getStatus().value()));
        try {
            assertThat(hold.awaitEntered(Duration.ofSeconds(30))).as("first request holds the only slot").isTrue();

            // Answered while the slot is still held: shed without waiting for it.
            post().expectStatus().isEqualTo(HttpStatus.TOO_MANY_REQUESTS)
                    .expectHeader().valueEquals("Retry-After", "1")
                    .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                    .expectBody()
                    .jsonPath("$.status").isEqualTo(429)
                    .jsonPath("$.detail").value(String.class, detail -> assertThat(detail).startsWith("overloaded"));
            assertThat(holder).as("the held request is still being scored").isNotDone();
        } finally {
            hold.release();
        }
        assertThat(holder.get(30, TimeUnit.SECONDS)).as("the held request, released").isEqualTo(HttpStatus.OK);

        PrometheusScrape after = scrapeMetrics();
        assertThat(after.sum("stem_requests_shed_total", OVERLOADED)
                - before.sum("stem_requests_shed_total", OVERLOADED)).isEqualTo(1);
        assertThat(after.sum("stem_requests_seconds_count", SHED_OUTCOME)
                - before.sum("stem_requests_seconds_count", SHED_OUTCOME)).isEqualTo(1);
    }

    private RestTestClient.ResponseSpec post() {
        return client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(BODY).exchange();
    }
}
