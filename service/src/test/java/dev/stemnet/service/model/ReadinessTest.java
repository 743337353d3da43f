package dev.stemnet.service.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stemnet.service.Polling;
import dev.stemnet.service.PrometheusScrape;
import dev.stemnet.service.TestBundle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.json.JsonMapper;

/**
 * The service starts without its default model, is not ready, and becomes ready once the model is warm: parity
 * checked and every generated warm-up request scored, none of which the scoring meters or the exposure log see.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@Import(ObservedWarmups.Wiring.class)
class ReadinessTest {

    private static final String TOKEN = "readiness-token";
    private static final Path EMPTY_REPOSITORY = TestBundle.emptyRepository("stem-empty-repository");
    /** Beside the repository, not in it: every directory in there is a bundle. */
    private static final Path EXPOSURES = EMPTY_REPOSITORY.resolveSibling(EMPTY_REPOSITORY.getFileName() + "-exposures");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int WARMUP_REQUESTS = 25;
    private static final int WARMUP_CANDIDATES = 30;

    @LocalServerPort
    private int port;

    @LocalManagementPort
    private int managementPort;

    @Autowired
    private ObservedWarmups warmups;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry properties) {
        properties.add("stem.models.repository", EMPTY_REPOSITORY::toString);
        properties.add("management.server.port", () -> "0");
        properties.add("stem.admin.token", () -> TOKEN);
        properties.add("stem.experiments.exposure-log.dir", EXPOSURES::toString);
        properties.add("stem.warmup.requests", () -> String.valueOf(WARMUP_REQUESTS));
        properties.add("stem.warmup.candidates", () -> String.valueOf(WARMUP_CANDIDATES));
    }

    @Test
    void isNotReadyAndAnswers503UntilTheDefaultModelIsLoadedAndWarm() {
        RestTestClient client = RestTestClient.bindToServer().baseUrl("http://localhost:" + port).build();
        RestTestClient management = RestTestClient.bindToServer().baseUrl("http://localhost:" + managementPort).build();

        management.get().uri("/actuator/health/liveness").exchange().expectStatus().isOk();
        management.get().uri("/actuator/health/readiness").exchange().expectStatus().isEqualTo(503)
                .expectBody().jsonPath("$.components.model.status").isEqualTo("OUT_OF_SERVICE");
        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                .body("{\"userId\": \"u1\", \"candidates\": [{\"itemId\": \"a1\"}]}").exchange()
                .expectStatus().isEqualTo(503)
                .expectHeader().valueEquals("Retry-After", "5")
                .expectHeader().contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON);

        TestBundle.copyWithVersion(EMPTY_REPOSITORY.resolve("stem-net"), "v-ready");
        management.post().uri("/actuator/models").header("Authorization", "Bearer " + TOKEN).exchange()
                .expectStatus().isOk();

        ObservedWarmups.Observation warmup = warmups.of("v-ready");
        assertThat(warmup.report().requests()).isEqualTo(WARMUP_REQUESTS);
        assertThat(warmup.report().candidates()).isEqualTo(WARMUP_CANDIDATES);
        assertThat(warmup.ready()).as("ready once every warm-up request was scored, before the version serves").isFalse();
        management.get().uri("/actuator/health/readiness").exchange().expectStatus().isOk();
        client.post().uri("/v1/score").contentType(MediaType.APPLICATION_JSON)
                .body("{\"requestId\": \"first\", \"userId\": \"u1\", \"candidates\": [{\"itemId\": \"a1\"}]}").exchange()
                .expectStatus().isOk();

        // The exposure log writes in order: once the first request's record is out, an earlier one would be too.
        assertThat(Polling.until(Duration.ofSeconds(10), () -> exposureRequestIds().contains("first"))).isTrue();
        assertThat(exposureRequestIds()).containsExactly("first");
        PrometheusScrape scrape = new PrometheusScrape(management.get().uri("/actuator/prometheus").exchange()
                .expectBody(String.class).returnResult().getResponseBody());
        assertThat(scrape.sum("stem_task_score_count", Map.of("version", "v-ready", "task", "follow")))
                .as("scores of the one candidate of the one request").isEqualTo(1);
        assertThat(scrape.sum("stem_score_candidates_count", Map.of("version", "v-ready"))).isEqualTo(1);
    }

    private static List<String> exposureRequestIds() {
        if (!Files.isDirectory(EXPOSURES)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(EXPOSURES)) {
            List<String> requestIds = new ArrayList<>();
            for (Path file : files.sorted().toList()) {
                for (String line : Files.readAllLines(file)) {
                    requestIds.add(JSON.readTree(line).get("requestId").asString());
                }
            }
            return requestIds;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
