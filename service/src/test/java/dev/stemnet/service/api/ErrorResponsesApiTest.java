package dev.stemnet.service.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.RunningServiceTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Errors that do not come from a handler's own checks: paths nothing serves, bodies Spring cannot bind, requests
 * Tomcat refuses on its own, an oversized body sent to the end before the response is read. Each answers
 * problem+json without a Java class or method name, and none logs a stack trace.
 */
@ExtendWith(OutputCaptureExtension.class)
class ErrorResponsesApiTest extends RunningServiceTest {

    private static final String CANDIDATE = "{\"itemId\": \"a1\"}";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalServerPort
    private int port;

    @LocalManagementPort
    private int managementPort;

    @ParameterizedTest
    @ValueSource(strings = {"/actuator/health/foo/bar", "/actuator/health/../models", "/actuator/health/readiness/foo/bar"})
    void aHealthPathThroughAComponentThatDoesNotExistIs404WithoutAStackTrace(String path, CapturedOutput log)
            throws IOException {
        // Sent as is: an HTTP client would resolve the "..".
        RawHttp.Response response = RawHttp.exchange(managementPort,
                "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", "");

        assertThat(response.status()).isEqualTo(404);
        assertThat(log.getAll()).doesNotContain("must not be null").doesNotContain("\tat ");
    }

    @Test
    void theErrorPageAskedForDirectlyIsNotFound() {
        client.get().uri("/error").exchange()
                .expectStatus().isNotFound()
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody().jsonPath("$.status").isEqualTo(404);
    }

    @Test
    void anEmptyBodyIsMissingWithoutNamingOurCode() {
        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).header("Content-Length", "0").exchange()
                .expectStatus().isBadRequest()
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody()
                .jsonPath("$.detail").isEqualTo("request body is missing");
    }

    @Test
    void anUnknownModelsLongNameIsEchoedCutShort() {
        String longName = "m".repeat(100_000);

        String body = client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                .body("{\"model\": \"" + longName + "\", \"userId\": \"u1\", \"candidates\": [" + CANDIDATE + "]}")
                .exchange()
                .expectStatus().isNotFound()
                .expectBody(String.class).returnResult().getResponseBody();

        JsonNode problem = JSON.readTree(body);
        assertThat(problem.get("model").asString()).isEqualTo("m".repeat(100) + "…");
        assertThat(problem.get("detail").asString()).contains("'" + "m".repeat(100) + "…'");
        assertThat(body).hasSizeLessThan(1_000);
    }

    static Stream<Arguments> badRequestsQuotingALongValue() {
        String longName = "n".repeat(10_000); // under the parser's 50 000-character limit on keys
        return Stream.of(
                Arguments.of("unknown task", "{\"userId\": \"u1\", \"candidates\": [" + CANDIDATE + "], \"tasks\": [\""
                        + "t".repeat(100_000) + "\"]}"),
                Arguments.of("unknown feature", "{\"userId\": \"u1\", \"candidates\": [{\"itemId\": \"a1\", \"features\": {\""
                        + longName + "\": \"1\"}}]}"),
                Arguments.of("unknown key", "{\"userId\": \"u1\", \"" + longName + "\": 1, \"candidates\": [" + CANDIDATE + "]}"),
                Arguments.of("duplicate key", "{\"userId\": \"u1\", \"candidates\": [{\"itemId\": \"a1\", \"features\": {\""
                        + longName + "\": \"1\", \"" + longName + "\": \"2\"}}]}"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequestsQuotingALongValue")
    void anErrorQuotesALongValueCutShort(String problem, String request) {
        String body = client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON).body(request).exchange()
                .expectStatus().isBadRequest()
                .expectBody(String.class).returnResult().getResponseBody();

        assertThat(body).contains("…").hasSizeLessThan(1_000);
    }

    @Test
    void aKeyOverTheParsersLimitIsRefusedWithoutNamingTheParsersCode() {
        String keyOverTheLimit = "k".repeat(60_000);

        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                .body("{\"userId\": \"u1\", \"" + keyOverTheLimit + "\": 1, \"candidates\": [" + CANDIDATE + "]}")
                .exchange()
                .expectStatus().isBadRequest()
                .expectBody()
                .jsonPath("$.detail").value(String.class, detail -> assertThat(detail)
                        .startsWith("malformed JSON")
                        .doesNotContain("StreamReadConstraints", "getMax", "`"));
    }

    @Test
    void headersOverTheLimitAnswerProblemJson() throws IOException {
        String hugeHeader = "X-Padding: " + "p".repeat(20 * 1024) + "\r\n";

        RawHttp.Response response = RawHttp.exchange(port, "POST /v1/score HTTP/1.1\r\nHost: localhost\r\n" + hugeHeader
                + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n", "{}");

        assertContainerProblem(response, 400);
    }

    @Test
    void aBodyShorterThanItsContentLengthAnswersProblemJson() throws IOException {
        byte[] partial = "{\"userId\": \"u1\",".getBytes(StandardCharsets.UTF_8);

        RawHttp.Response response = RawHttp.exchange(port, "POST /v1/score HTTP/1.1\r\nHost: localhost\r\n"
                + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n", partial, true);

        assertContainerProblem(response, 400);
    }

    @Test
    void brokenChunkedEncodingAnswersProblemJson() throws IOException {
        RawHttp.Response response = RawHttp.exchange(port, "POST /v1/score HTTP/1.1\r\nHost: localhost\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", "zz\r\n{}\r\n0\r\n\r\n");

        assertContainerProblem(response, 400);
    }

    @Test
    void anOversizedBodyWrittenToTheEndBeforeReadingStillGetsTheRefusal() throws IOException {
        // Several MB past the 2 MB limit, as Python's urllib sends it: the whole body first, then the response.
        byte[] body = ("{\"userId\": \"u1\", \"requestId\": \"" + "x".repeat(12 * 1024 * 1024) + "\"}")
                .getBytes(StandardCharsets.UTF_8);

        RawHttp.Response response = RawHttp.exchange(port, "POST /v1/score HTTP/1.1\r\nHost: localhost\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n", body, false);

        assertThat(response.status()).isEqualTo(413);
        assertThat(response.header("Content-Type")).startsWith(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        assertThat(response.header("Connection")).isEqualTo("close");
        assertThat(response.body()).contains("stem.scoring.max-body-size");
    }

    private static void assertContainerProblem(RawHttp.Response response, int status) {
        assertThat(response.status()).isEqualTo(status);
        assertThat(response.header("Content-Type")).startsWith(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        assertThat(response.body())
                .contains("\"status\":" + status)
                .doesNotContain("Exception", "org.apache", "dev.stemnet", "Tomcat", "\tat ");
    }
}
