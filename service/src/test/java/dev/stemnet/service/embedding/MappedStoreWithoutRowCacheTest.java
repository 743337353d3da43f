package dev.stemnet.service.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.ParityRequests;
import dev.stemnet.service.RunningServiceTest;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;

/**
 * The default store, the bundle's memory-mapped files, is read without a row cache in front: its pages are in
 * memory already. So no cache series exist, even after requests (that the rows read are right is the contract
 * test's job).
 */
class MappedStoreWithoutRowCacheTest extends RunningServiceTest {

    @Test
    void servesRequestsWithoutAnyRowCacheSeries() {
        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(ParityRequests.request(0))
                .exchange().expectStatus().isOk();

        String scrape = scrapeMetrics().text();
        assertThat(scrape).contains("stem_stage_seconds_count{");
        assertThat(scrape).doesNotContain("stem.embedding.rows", "cache_gets_total");
    }
}
