package dev.stemnet.service.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.RunningServiceTest;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.context.TestPropertySource;

/** With {@code stem.scoring.unknown-features=ignore}, keys the API does not have are scored past and counted. */
@TestPropertySource(properties = "stem.scoring.unknown-features=ignore")
class UnknownKeysIgnoredApiTest extends RunningServiceTest {

    private static final Map<String, String> REQUEST_KEYS = Map.of("model", "none", "version", "none", "field", "other");

    @Test
    void scoresARequestWithUnknownKeysAndCountsEachOne() {
        double before = scrapeMetrics().sum("stem_unknown_features_total", REQUEST_KEYS);

        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                .body("{\"userId\": \"u1\", \"userFeature\": {\"device\": \"ios\"}, \"candidates\": ["
                        + "{\"itemId\": \"a1\", \"feature\": {\"category\": \"c1\"}}]}")
                .exchange()
                .expectStatus().isOk()
                .expectBody().jsonPath("$.results[0].itemId").isEqualTo("a1");

        assertThat(scrapeMetrics().sum("stem_unknown_features_total", REQUEST_KEYS)).isEqualTo(before + 2);
    }
}
