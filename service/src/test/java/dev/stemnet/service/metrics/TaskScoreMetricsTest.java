package dev.stemnet.service.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.stemnet.service.ParityRequests;
import dev.stemnet.service.PrometheusScrape;
import dev.stemnet.service.RunningServiceTest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** {@code stem_task_score} over HTTP: the scrape against the scores the responses carried. */
class TaskScoreMetricsTest extends RunningServiceTest {

    private static final List<String> TASKS = List.of("follow", "activation", "pay");
    // The response's decimals as written, so that each reads back to exactly the float the service scored.
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

    /**
     * Each bucket grows by exactly the served scores that do not exceed its bound, {@code _count} by all of them and
     * {@code _sum} by their sum; a request that asks for one task counts that task only.
     */
    @Test
    void eachBucketGrowsByTheServedScoresUpToItsBound() {
        PrometheusScrape before = scrapeMetrics();
        Map<String, List<Double>> served = new HashMap<>();
        for (int i = 0; i < 6; i++) {
            ObjectNode request = (ObjectNode) JSON.readTree(ParityRequests.request(i));
            if (i == 5) {
                request.putArray("tasks").add("pay");
            }
            for (JsonNode result : score(request).get("results")) {
                result.get("scores").properties().forEach(score -> served.computeIfAbsent(score.getKey(),
                        task -> new ArrayList<>()).add((double) Float.parseFloat(score.getValue().decimalValue().toString())));
            }
        }
        PrometheusScrape after = scrapeMetrics();

        assertThat(served.keySet()).containsExactlyInAnyOrderElementsOf(TASKS);
        assertThat(served.get("pay")).hasSizeGreaterThan(served.get("follow").size());
        for (String task : TASKS) {
            List<Double> scores = served.get(task);
            Map<String, String> labels = Map.of("model", "stem-net", "task", task);
            for (double bound : ModelMeters.scoreBuckets()) {
                assertThat(increase(before, after, "stem_task_score_bucket", with(labels, "le", Double.toString(bound))))
                        .as("%s scores up to %s", task, bound)
                        .isEqualTo(scores.stream().filter(score -> score <= bound).count());
            }
            assertThat(increase(before, after, "stem_task_score_bucket", with(labels, "le", "+Inf")))
                    .isEqualTo(scores.size());
            assertThat(increase(before, after, "stem_task_score_count", labels)).isEqualTo(scores.size());
            assertThat(increase(before, after, "stem_task_score_sum", labels))
                    .isCloseTo(scores.stream().mapToDouble(Double::doubleValue).sum(), within(1e-9));
        }
    }

    private JsonNode score(ObjectNode request) {
        String body = client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                .body(JSON.writeValueAsString(request))
                .exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        return JSON.readTree(body);
    }

    private static double increase(PrometheusScrape before, PrometheusScrape after, String metric,
            Map<String, String> labels) {
        return after.sum(metric, labels) - before.sum(metric, labels);
    }

    private static Map<String, String> with(Map<String, String> labels, String key, String value) {
        Map<String, String> extended = new HashMap<>(labels);
        extended.put(key, value);
        return extended;
    }
}
