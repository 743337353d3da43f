package dev.stemnet.service.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.ParityRequests;
import dev.stemnet.service.RunningServiceTest;
import java.io.ByteArrayInputStream;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code POST /v1/score} against the test bundle (tasks follow, activation, pay). */
class ScoreApiTest extends RunningServiceTest {

    private static final String CANDIDATE = """
            {"itemId": "a1", "features": {"advertiser": "adv1", "category": "c1", "creative_type": "video"}}""";

    @LocalServerPort
    private int port;

    @Test
    void scoresEveryTaskInManifestOrderAndMakesUpARequestIdWhenThereIsNone() {
        String body = """
                {"userId": "u1", "userFeatures": {"device": "ios"}, "candidates": [%s, {"itemId": "unseen-ad"}]}
                """.formatted(CANDIDATE);

        post(body).expectStatus().isOk()
                .expectBody()
                .jsonPath("$.requestId").value(String.class, id -> assertThat(UUID.fromString(id)).isNotNull())
                .jsonPath("$.model.name").isEqualTo("stem-net")
                .jsonPath("$.results[0].itemId").isEqualTo("a1")
                .jsonPath("$.results[1].itemId").isEqualTo("unseen-ad")
                .jsonPath("$.results[1].scores.pay").value(Double.class, p -> assertThat(p).isBetween(0.0, 1.0))
                .jsonPath("$.results[0].scores").value(Map.class,
                        scores -> assertThat(scores.keySet()).containsExactly("follow", "activation", "pay"));
    }

    /** Scores are float32: each is written as its float's shortest decimal, not as the widened double's 17 digits. */
    @Test
    void writesEachScoreWithNoMoreDigitsThanAFloatNeeds() {
        String body = post(ParityRequests.request(0)).expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();

        JsonNode results = JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build()
                .readTree(body).get("results");
        assertThat(results).isNotEmpty();
        for (JsonNode result : results) {
            result.get("scores").properties().forEach(score -> {
                BigDecimal written = score.getValue().decimalValue();
                // 9 significant digits tell any two floats apart.
                assertThat(written.stripTrailingZeros().precision()).as("%s", written).isLessThanOrEqualTo(9);
                assertThat(Float.parseFloat(written.toString())).isBetween(0f, 1f);
            });
        }
    }

    @Test
    void returnsOnlyTheRequestedTasksInManifestOrder() {
        String body = """
                {"requestId": "r7", "userId": "u1", "candidates": [%s], "tasks": ["pay", "follow"]}
                """.formatted(CANDIDATE);

        post(body).expectStatus().isOk()
                .expectBody()
                .jsonPath("$.requestId").isEqualTo("r7")
                .jsonPath("$.results[0].scores").value(Map.class,
                        scores -> assertThat(scores.keySet()).containsExactly("follow", "pay"));
    }

    static Stream<Arguments> badRequests() {
        String tooMany = String.join(",", Collections.nCopies(1001, CANDIDATE));
        return Stream.of(
                Arguments.of("missing userId", "{\"candidates\": [" + CANDIDATE + "]}", "userId"),
                Arguments.of("blank userId", "{\"userId\": \" \", \"candidates\": [" + CANDIDATE + "]}", "userId"),
                Arguments.of("missing candidates", "{\"userId\": \"u1\"}", "candidates"),
                Arguments.of("empty candidates", "{\"userId\": \"u1\", \"candidates\": []}", "candidates"),
                Arguments.of("too many candidates", "{\"userId\": \"u1\", \"candidates\": [" + tooMany + "]}", "candidates"),
                Arguments.of("candidates not a list", "{\"userId\": \"u1\", \"candidates\": \"a1\"}", "candidates"),
                Arguments.of("candidate without itemId",
                        "{\"userId\": \"u1\", \"candidates\": [" + CANDIDATE + ", {\"features\": {}}]}", "candidates[1].itemId"),
                Arguments.of("candidate with a blank itemId",
                        "{\"userId\": \"u1\", \"candidates\": [" + CANDIDATE + ", {\"itemId\": \" \"}]}", "candidates[1].itemId"),
                Arguments.of("null candidate", "{\"userId\": \"u1\", \"candidates\": [" + CANDIDATE + ", null]}", "candidates[1]"),
                Arguments.of("unknown task",
                        "{\"userId\": \"u1\", \"candidates\": [" + CANDIDATE + "], \"tasks\": [\"follow\", \"click\"]}", "tasks[1]"),
                Arguments.of("empty tasks", "{\"userId\": \"u1\", \"candidates\": [" + CANDIDATE + "], \"tasks\": []}", "tasks"),
                Arguments.of("unknown item feature",
                        "{\"userId\": \"u1\", \"candidates\": [{\"itemId\": \"a1\", \"features\": {\"colour\": \"red\"}}]}",
                        "candidates[0].features.colour"),
                Arguments.of("unknown user feature",
                        "{\"userId\": \"u1\", \"userFeatures\": {\"shoe_size\": \"44\"}, \"candidates\": [" + CANDIDATE + "]}",
                        "userFeatures.shoe_size"),
                Arguments.of("misspelt key of the request",
                        "{\"userId\": \"u1\", \"userFeature\": {\"device\": \"ios\"}, \"candidates\": [" + CANDIDATE + "]}",
                        "userFeature"),
                Arguments.of("misspelt key of a candidate",
                        "{\"userId\": \"u1\", \"candidates\": [" + CANDIDATE + ", {\"itemId\": \"a2\", \"feature\": {}}]}",
                        "candidates[1].feature"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void refusesABadRequestWithAProblemNamingTheField(String problem, String body, String field) {
        post(body).expectStatus().isBadRequest()
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody()
                .jsonPath("$.status").isEqualTo(400)
                .jsonPath("$.field").isEqualTo(field)
                .jsonPath("$.detail").value(String.class, detail -> assertThat(detail).contains(field));
    }

    @Test
    void listsEveryBadCandidateAndTheRequestsOtherProblemsInFieldOrder() {
        post("{\"userId\": \"\", \"candidates\": [null, {\"itemId\": \" \"}, " + CANDIDATE + ", {}]}")
                .expectStatus().isBadRequest()
                .expectBody()
                .jsonPath("$.field").isEqualTo("candidates[0]")
                .jsonPath("$.errors[*].field").value(List.class, fields -> assertThat(fields)
                        .containsExactly("candidates[0]", "candidates[1].itemId", "candidates[3].itemId", "userId"))
                .jsonPath("$.errors[*].message").value(List.class, messages -> assertThat(messages)
                        .containsExactly("must not be null", "must not be blank", "must not be blank", "must not be blank"));
    }

    @Test
    void namesTheKeysARequestAndACandidateAccept() {
        post("{\"userId\": \"u1\", \"userFeature\": {}, \"candidates\": [" + CANDIDATE + "]}").expectStatus().isBadRequest()
                .expectBody()
                .jsonPath("$.errors[0].message").value(String.class, message -> assertThat(message)
                        .contains("[candidates, contextFeatures, model, requestId, tasks, userFeatures, userId]"));
        post("{\"userId\": \"u1\", \"candidates\": [{\"itemId\": \"a1\", \"feature\": {}}]}").expectStatus().isBadRequest()
                .expectBody()
                .jsonPath("$.errors[0].message").value(String.class, message -> assertThat(message)
                        .contains("[features, itemId]"));
    }

    @Test
    void refusesAKeyGivenTwiceNamingIt() {
        post("{\"userId\": \"u1\", \"candidates\": [" + CANDIDATE + "], \"userId\": \"u2\"}").expectStatus().isBadRequest()
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody()
                .jsonPath("$.detail").value(String.class, detail -> assertThat(detail).contains("\"userId\""));
        post("{\"userId\": \"u1\", \"candidates\": [{\"itemId\": \"a1\", \"features\": {\"category\": \"c1\","
                + " \"category\": \"c2\"}}]}").expectStatus().isBadRequest()
                .expectBody()
                .jsonPath("$.detail").value(String.class, detail -> assertThat(detail).contains("\"category\""));
    }

    @Test
    void refusesMalformedJsonWithAProblem() {
        post("{\"userId\": \"u1\",").expectStatus().isBadRequest()
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody()
                .jsonPath("$.detail").value(String.class, detail -> assertThat(detail).contains("malformed JSON"));
    }

    @Test
    void publishesRequestStageCandidateAndScoreMetricsThatMoveWithEachRequest() {
        String okRequests = "stem_requests_seconds_count{endpoint=\"score\",model=\"stem-net\",outcome=\"ok\"";
        String badRequests = "stem_requests_seconds_count{endpoint=\"score\",model=\"none\",outcome=\"bad_request\"";
        String networkCpu = "stem_network_cpu_seconds_total{model=\"stem-net\"";
        double okBefore = metric(okRequests);
        double badBefore = metric(badRequests);
        double networkCpuBefore = metric(networkCpu);

        post("{\"userId\": \"u1\", \"candidates\": [" + CANDIDATE + ", " + CANDIDATE + "]}").expectStatus().isOk();
        post("{\"userId\": \"u1\", \"candidates\": []}").expectStatus().isBadRequest();

        assertThat(metric(okRequests)).isEqualTo(okBefore + 1);
        assertThat(metric(badRequests)).isEqualTo(badBefore + 1);
        assertThat(metric(networkCpu)).as("the scored request's CPU time in ONNX Runtime").isGreaterThan(networkCpuBefore);
        String scrape = scrape();
        assertThat(scrape).contains("stem_stage_seconds_count{model=\"stem-net\",stage=\"encode\"",
                "stem_stage_seconds_count{model=\"stem-net\",stage=\"fetch\"",
                "stem_stage_seconds_count{model=\"stem-net\",stage=\"run\"",
                "stem_score_candidates_bucket{model=\"stem-net\"",
                "stem_task_score_bucket{model=\"stem-net\",task=\"pay\"",
                "stem_runtime_device_info{device=");
        assertThat(scrape.lines().filter(line -> line.startsWith("stem_runtime_device_info{")))
                .as("the device reason is a short code, never the ONNX Runtime message")
                .isNotEmpty()
                .allMatch(line -> line.matches(".*reason=\"(none|configured|no_driver|cuda_provider_failed)\".*"));
        assertThat(scrape.lines().filter(line -> line.startsWith("stem_onnx_sessions ")))
                .as("the serving version's session at least").singleElement()
                .satisfies(line -> assertThat(Double.parseDouble(line.substring(line.indexOf(' ') + 1)))
                        .isGreaterThanOrEqualTo(1));
    }

    @Test
    void refusesAModelThatDoesNotServeWith404NamingIt() {
        post("{\"model\": \"no-such-model\", \"userId\": \"u1\", \"candidates\": [" + CANDIDATE + "]}")
                .expectStatus().isNotFound()
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody()
                .jsonPath("$.model").isEqualTo("no-such-model")
                .jsonPath("$.detail").value(String.class, detail -> assertThat(detail).contains("'no-such-model'"));
    }

    @Test
    void scoresWithTheModelTheRequestNames() {
        post("{\"model\": \"stem-net\", \"userId\": \"u1\", \"candidates\": [" + CANDIDATE + "]}")
                .expectStatus().isOk()
                .expectBody().jsonPath("$.model.name").isEqualTo("stem-net");
    }

    @Test
    void refusesABodyOverTheSizeLimitWith413() {
        String huge = "{\"userId\": \"u1\", \"candidates\": [" + CANDIDATE + "], \"requestId\": \""
                + "x".repeat(3 * 1024 * 1024) + "\"}";

        post(huge).expectStatus().isEqualTo(413)
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody()
                .jsonPath("$.status").isEqualTo(413)
                .jsonPath("$.detail").value(String.class, detail -> assertThat(detail).contains("stem.scoring.max-body-size"));
    }

    @Test
    void refusesAChunkedBodyOverTheSizeLimitWith413() throws Exception {
        // No Content-Length: the limit has to be applied to the bytes as they are read.
        byte[] huge = ("{\"userId\": \"u1\", \"candidates\": [" + CANDIDATE + "], \"requestId\": \""
                + "x".repeat(2 * 1024 * 1024 + 64 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/score"))
                .header("Content-Type", MediaType.APPLICATION_JSON_VALUE)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(huge)))
                .build();
        assertThat(request.bodyPublisher().orElseThrow().contentLength())
                .as("unknown length: HTTP/1.1 sends it chunked").isEqualTo(-1);

        HttpResponse<String> response = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
                .send(request, HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith(MediaType.APPLICATION_PROBLEM_JSON_VALUE));
        assertThat(response.body()).contains("stem.scoring.max-body-size");
    }

    private String scrape() {
        return management.get().uri("/actuator/prometheus").exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
    }

    /** The value of the first series starting with {@code seriesPrefix}, 0 when there is none yet. */
    private double metric(String seriesPrefix) {
        return scrape().lines()
                .filter(line -> line.startsWith(seriesPrefix))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .findFirst()
                .orElse(0);
    }

    private RestTestClient.ResponseSpec post(String body) {
        return client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(body).exchange();
    }
}
