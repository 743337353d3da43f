package dev.stemnet.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The contract with the trainer: every request in the bundle's {@code parity.jsonl}, posted over HTTP,
 * gets the scores PyTorch computed, within 1e-5.
 */
class ContractTest extends RunningServiceTest {

    private static final Logger log = LoggerFactory.getLogger(ContractTest.class);
    private static final double TOLERANCE = 1e-5;
    private static final int MIN_FIXTURES = 200;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void servesTheScoresPyTorchComputedForEveryParityFixture() throws IOException {
        Path bundle = TestBundle.directory();
        JsonNode manifest = JSON.readTree(bundle.resolve("manifest.json"));
        List<String> fixtures = Files.readAllLines(bundle.resolve(manifest.get("parityFixtures").asString()));
        assertThat(fixtures).as("parity fixtures").hasSizeGreaterThanOrEqualTo(MIN_FIXTURES);

        List<String> mismatches = new ArrayList<>();
        int scoresChecked = 0;
        double maxDifference = 0;
        for (int line = 1; line <= fixtures.size(); line++) {
            JsonNode fixture = JSON.readTree(fixtures.get(line - 1));
            JsonNode request = fixture.get("request");
            JsonNode response = post(request);

            assertThat(response.get("requestId").asString()).isEqualTo(request.get("requestId").asString());
            assertThat(response.get("model").get("name")).isEqualTo(manifest.get("model").get("name"));
            assertThat(response.get("model").get("version")).isEqualTo(manifest.get("model").get("version"));
            JsonNode candidates = request.get("candidates");
            JsonNode results = response.get("results");
            JsonNode expected = fixture.get("expected");
            assertThat(results.size()).as("results of line %d", line).isEqualTo(candidates.size());
            for (int c = 0; c < candidates.size(); c++) {
                String where = "line " + line + ", candidate " + c;
                assertThat(results.get(c).get("itemId")).as(where).isEqualTo(candidates.get(c).get("itemId"));
                JsonNode scores = results.get(c).get("scores");
                JsonNode expectedScores = expected.get(c);
                assertThat(scores.propertyNames()).as(where).containsExactlyElementsOf(expectedScores.propertyNames());
                for (String task : expectedScores.propertyNames()) {
                    double difference = Math.abs(scores.get(task).asDouble() - expectedScores.get(task).asDouble());
                    maxDifference = Math.max(maxDifference, difference);
                    scoresChecked++;
                    if (difference > TOLERANCE) {
                        mismatches.add(where + ", task " + task + ": served " + scores.get(task)
                                + ", PyTorch " + expectedScores.get(task));
                    }
                }
            }
        }
        log.info("Parity: {} fixtures, {} scores, max |served - PyTorch| = {}", fixtures.size(), scoresChecked, maxDifference);
        assertThat(mismatches).as("scores more than %s away from PyTorch's", TOLERANCE).isEmpty();
    }

    private JsonNode post(JsonNode request) {
        String body = client.post().uri("/v1/score")
                .contentType(MediaType.APPLICATION_JSON)
                .body(JSON.writeValueAsString(request))
                .exchange()
                .expectStatus().isOk()
                .expectBody(String.class)
                .returnResult()
                .getResponseBody();
        return JSON.readTree(body);
    }
}
