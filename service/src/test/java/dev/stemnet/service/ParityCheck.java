package dev.stemnet.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The contract check itself: a bundle's parity fixtures, posted over HTTP, get the fixtures' scores within the
 * manifest's {@code parityTolerance} (1e-5 when it names none). An FP32 bundle's fixtures are PyTorch's scores; an
 * int8 bundle's are the int8 graph's, scored by ONNX Runtime in the trainer.
 */
final class ParityCheck {

    private static final Logger log = LoggerFactory.getLogger(ParityCheck.class);
    private static final double DEFAULT_TOLERANCE = 1e-5;
    private static final int MIN_FIXTURES = 200;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ParityCheck() {}

    /**
     * Posts every fixture of {@code bundle} to the service behind {@code client} and requires the fixtures' scores.
     *
     * @param model the model name to ask for in each request, or {@code null} for the service's default model
     */
    static void assertServesFixtureScores(RestTestClient client, Path bundle, String model) throws IOException {
        JsonNode manifest = JSON.readTree(bundle.resolve("manifest.json"));
        double tolerance = manifest.has("parityTolerance") ? manifest.get("parityTolerance").asDouble() : DEFAULT_TOLERANCE;
        List<String> fixtures = Files.readAllLines(bundle.resolve(manifest.get("parityFixtures").asString()));
        assertThat(fixtures).as("parity fixtures").hasSizeGreaterThanOrEqualTo(MIN_FIXTURES);

        List<String> mismatches = new ArrayList<>();
        int scoresChecked = 0;
        double maxDifference = 0;
        for (int line = 1; line <= fixtures.size(); line++) {
            JsonNode fixture = JSON.readTree(fixtures.get(line - 1));
            ObjectNode request = (ObjectNode) fixture.get("request");
            if (model != null) {
                request.put("model", model);
            }
            JsonNode response = post(client, request);

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
                    if (difference > tolerance) {
                        mismatches.add(where + ", task " + task + ": served " + scores.get(task)
                                + ", fixture " + expectedScores.get(task));
                    }
                }
            }
        }
        log.info("Parity of {}: {} fixtures, {} scores, max |served - fixture| = {} (tolerance {})", bundle.getFileName(),
                fixtures.size(), scoresChecked, maxDifference, tolerance);
        assertThat(mismatches).as("scores more than %s away from the fixtures'", tolerance).isEmpty();
    }

    private static JsonNode post(RestTestClient client, JsonNode request) {
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
